"""Progress of the passes over the data: a tqdm bar on a terminal, periodic plain lines otherwise
(CI logs, ``nohup``), on stderr. Rows and bytes per second and an ETA when the total is known."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator

from tqdm.auto import tqdm

#: Seconds between two plain progress lines when stderr is not a terminal.
LINE_EVERY = 10.0


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


class PassProgress:
    """Wraps each pass's chunk iterator (``progress(pass_name, chunks)``).

    Parameters
    ----------
    enabled : bool
        Show anything at all.
    total_rows : int, optional
        Rows one pass visits (both sides), for the ETA; unknown when ``None``.
    stream : file, optional
        Where to write [default: ``sys.stderr``].
    every : float
        Seconds between plain lines (:data:`LINE_EVERY`).
    """

    def __init__(self, enabled: bool, total_rows: int | None = None, stream=None, every: float = LINE_EVERY):
        self.enabled, self.total, self.every = enabled, total_rows, every
        self.stream = stream if stream is not None else sys.stderr
        self.log: list[tuple[str, int, int, float]] = []  # (pass, rows, bytes, seconds) of finished passes

    def __call__(self, name: str, chunks: Iterable) -> Iterator:
        return self._run(name, chunks)

    def _line(self, name: str, rows: int, nbytes: int, t0: float, done: bool = False) -> str:
        dt = max(time.perf_counter() - t0, 1e-9)
        rate = rows / dt
        msg = f"synthproof: {name}: {rows:,} rows, {_size(nbytes)} in {dt:.1f} s ({rate:,.0f} rows/s, " \
              f"{_size(nbytes / dt)}/s)"
        if not done and self.total and rate > 0:
            msg += f", ETA {max(self.total - rows, 0) / rate:.0f} s"
        return msg + (", done" if done else "")

    def _run(self, name: str, chunks: Iterable) -> Iterator:
        t0 = last = time.perf_counter()
        rows = nbytes = 0
        tty = self.enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        bar = tqdm(total=self.total, desc=f"synthproof {name}", unit="row", unit_scale=True, leave=False,
                   file=self.stream, disable=not tty)
        try:
            for ch in chunks:
                yield ch
                rows += ch.n
                nbytes += getattr(ch, "nbytes", 0)
                bar.update(ch.n)
                now = time.perf_counter()
                if self.enabled and not tty and now - last >= self.every:
                    print(self._line(name, rows, nbytes, t0), file=self.stream, flush=True)
                    last = now
        finally:
            bar.close()
        self.log.append((name, rows, nbytes, time.perf_counter() - t0))
        if self.enabled and not tty:
            print(self._line(name, rows, nbytes, t0, done=True), file=self.stream, flush=True)
