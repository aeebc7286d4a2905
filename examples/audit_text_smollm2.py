"""Audit a real LLM's output: texts written by SmolLM2-135M-Instruct against Debian fortunes.

Writes the bundled real corpus (Debian fortunes, BSD) and the bundled synthetic corpus (1,204
texts generated offline by ``scripts/generate_text_corpus.py``) as JSONL files, then runs the
command line exactly as a user would, with a planted evaluation set for the contamination check
(60 fortunes that are in neither corpus' sample):

    python examples/audit_text_smollm2.py [--out docs/example/text]

The committed report of this run is ``docs/example/text/report.html``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import yaml

from synthproof import datasets


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[1] / "docs" / "example" / "text"))
    args = ap.parse_args()
    real = datasets.load("fortunes")
    synthetic = datasets.load("fortunes_smollm2")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        # the bundled file is sorted by topic: a seeded sample keeps every topic in the real side
        order = real.sample(frac=1.0, random_state=0).index
        ref, rest = real.loc[order[:5000]], real.loc[order[5000:]]
        ref.to_json(tmp / "real.jsonl", orient="records", lines=True)
        synthetic.to_json(tmp / "synthetic.jsonl", orient="records", lines=True)
        evals = rest[rest.text.str.split().str.len() >= 15].iloc[:60]
        (tmp / "eval.jsonl").write_text("".join(json.dumps({"question": t}) + "\n" for t in evals.text))
        (tmp / "audit.yaml").write_text(yaml.safe_dump({"text": {"eval_sets": [str(tmp / "eval.jsonl")]}}))
        cmd = [sys.executable, "-m", "synthproof.cli", "audit", "--real", str(tmp / "real.jsonl"),
               "--synthetic", str(tmp / "synthetic.jsonl"), "--config", str(tmp / "audit.yaml"), "--out", args.out]
        print(" ".join(cmd[2:]))
        return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(0 if main() in (0, 1) else 2)
