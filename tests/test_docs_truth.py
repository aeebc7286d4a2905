"""Issue 11, item 8: config blocks in the docs agree with the code's defaults."""

from __future__ import annotations

import pathlib
import re

from synthproof.config import AuditConfig

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def test_documented_watermark_defaults_match_the_config():
    default = AuditConfig().watermark.ignore_repeated_ngrams
    for name in ("config.md", "watermark.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        shown = re.findall(r"^\s+ignore_repeated_ngrams:\s*(true|false)", text, re.M)
        assert shown and all((v == "true") is default for v in shown), (name, shown)


def test_documented_gate_keys_exist():
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    for key in ("min_synthetic_rows", "min_real_rows", "min_judged_share"):
        assert f"  {key}:" in text and key in AuditConfig().gate.model_dump()
