"""Run ``synthproof`` (its command line, arguments as given) printing one stderr line per stage —
the embedding warm-up and every check — with its wall time and the resident set after it:

    python bench/_staged.py audit --real R --synthetic S --out OUT

Used by ``bench/text_outofcore.py`` for its per-stage times; the passes print their own lines."""

from __future__ import annotations

import sys
import time

import synthproof.runner as runner
from synthproof.cli import cli


def _rss_gib() -> float:
    try:
        with open("/proc/self/status") as fh:
            return next(int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS")) / 2**20
    except (OSError, StopIteration):
        return float("nan")


def _timed(name_of, fn):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            print(f"stage {name_of(*args)} {time.perf_counter() - t:.1f} s, rss {_rss_gib():.2f} GiB",
                  file=sys.stderr, flush=True)
    return wrapper


runner.run_check = _timed(lambda check, ctx: check.id, runner.run_check)
runner.warm_embeddings = _timed(lambda checks, ctx: "embeddings", runner.warm_embeddings)

if __name__ == "__main__":
    sys.argv[0] = "synthproof"
    cli()
