"""The report's privacy section: each attack's risk with its interval beside the holdout control,
membership inference at low false-positive rates, and PII / rare-combination replay — what an
attacker holding the synthetic data gains. Built only from the findings' numbers (no record value)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .sections import _clean, _ev

ATTACKS = {"privacy.singling_out": "Singling out", "privacy.linkability": "Linkability",
           "privacy.inference": "Attribute inference"}


def privacy_section(rows: pd.DataFrame) -> dict[str, Any] | None:
    """``{"risks", "membership", "replay"}`` lists for the template, or None without privacy findings."""
    priv = rows[(rows["family"] == "privacy") & (rows["scope"] != "row")]
    if priv.empty:
        return None
    risks, membership, replay, other = [], [], [], []
    for rec in priv.sort_values(["check_id", "metric", "column"], kind="stable", na_position="first").to_dict(
            orient="records"):
        ev = _ev(rec["evidence"])
        cid = rec["check_id"]
        if cid in ATTACKS and "risk" in ev:
            what = ATTACKS[cid] + (f" ({ev['mode']})" if "mode" in ev else "") + \
                (f" of {rec['column']}" if _clean(rec["column"]) else "")
            risks.append({"status": rec["status"], "attack": what, "risk": ev["risk"], "n": ev["n_attacks"],
                          "train": ev["successes_training"], "control": ev["successes_control"],
                          "p": _clean(rec["p_value"])})
        elif cid == "privacy.membership_inference" and rec["status"] != "skipped":
            membership.append({"status": rec["status"], "metric": rec["metric"], "value": _clean(rec["value"]),
                               "null": _clean(rec["baseline_value"]), "threshold": _clean(rec["threshold"]),
                               "p": _clean(rec["p_value"])})
        elif cid in ("privacy.pii_replay", "privacy.text_pii_replay") and rec["metric"] == "pii_replay_rate" \
                and rec["status"] != "skipped":
            replay.append({"status": rec["status"], "what": f"PII in {rec['column']}", "value": _clean(rec["value"]),
                           "control": _clean(rec["baseline_value"]), "kinds": ev.get("replayed_records", {}),
                           "p": _clean(rec["p_value"])})
        elif cid == "privacy.rare_combinations" and "k" in ev:
            replay.append({"status": rec["status"], "what": f"combinations rare in training (k < {ev['k']})",
                           "value": _clean(rec["value"]),
                           "control": ev["synthetic_hits_control"] / max(int(_clean(rec["n_synthetic"]) or 1), 1),
                           "kinds": {}, "p": _clean(rec["p_value"])})
        else:
            other.append({"status": rec["status"], "check_id": cid, "message": rec["message"]})
    return {"risks": risks, "membership": membership, "replay": replay, "other": other}
