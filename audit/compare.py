"""Compare two runs' findings: what got worse beyond its calibrated noise.

Findings are matched on ``(check_id, scope, column, subgroup, metric, side)`` (row-level evidence
left out). For a matched pair the change is judged on the statistic the verdict uses
(``matched_value`` where both runs have it, else ``value``), in the finding's bad direction
(``goal``: up for ``minimize``, down for ``maximize``):

* **noise** is the calibrated spread of a difference of two runs: ``sqrt(2) * |threshold -
  baseline_value|`` (the larger of the two runs'). ``threshold - baseline_value`` is how far the
  statistic of one run strays from the real/real median at the gate's multiplicity-corrected level;
  two runs stray independently, so their difference has sqrt(2) times that spread. Two runs of one
  generator differ by about as much where the synthetic data are close to real, i.e. near the
  gate's threshold.
* **new_failure**: ``fail`` in the new run (no waiver) and not in the old one. It is a regression
  when it is also worse by more than the noise *and* by at least the check's ``min_effect`` (the
  two conditions a single run's verdict uses; never a folk threshold), or when there is no
  calibrated noise to judge the change by (a rule-based check, or no old counterpart at dataset or
  column scope): a flip without evidence fails closed, a flip within the noise is listed and does
  not fail, and so does a subgroup or pair finding the old run did not compare at all (which
  subgroups are compared depends on each run's synthetic counts);
* **worsened**: worse by both margins but no new failure. It is a regression when the new
  finding is waived (a waiver accepts the level it was granted for, not a worse one); otherwise
  it is listed without failing, because where a statistic already fails (or passes) far from the
  threshold the real/real spread does not describe its run-to-run noise (measured: failing
  subgroup statistics move by several real/real spreads between two samples of one generator,
  ``bench/compare_noise.py``), and a failing finding already fails the new run's gate;
* **improved**: better by both margins; **fixed**: ``fail`` before, ``pass`` or ``warn`` now (a
  failure waived since is judged as ``worsened`` or not, like any waived finding); **unjudged**:
  ``fail`` before, ``skipped`` or ``error`` now (the check-level loss is ``no_longer_judged``);
* **no_longer_judged**: a check with a verdict (``pass``/``warn``/``fail``) in the old run has none
  in the new run (left out, errored or skipped): a regression, since the new run judged less.

The comparison exits 1 (``synthproof compare``, ``audit --baseline``) when any row is a regression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEY = ["check_id", "scope", "column", "subgroup", "metric", "side"]
VERDICTS = ("pass", "warn", "fail")
SQRT2 = float(np.sqrt(2.0))
#: Ordering of changes in the comparison table (new failures first).
CHANGE_ORDER = ("new_failure", "no_longer_judged", "worsened", "fixed", "improved", "unjudged", "new", "missing",
                "unchanged")
COLUMNS = ["change", "regression", *KEY, "family", "goal", "old_status", "new_status", "old_value", "new_value",
           "worse_by", "noise", "min_effect", "effect", "message"]


def _num(x) -> float:
    return float("nan") if x is None or pd.isna(x) else float(x)


def _direction(goal) -> int:
    """+1 when larger is worse (``minimize``), -1 when smaller is worse, 0 when the goal is unknown."""
    g = str(goal or "").split(" ", 1)[0]
    return 1 if g == "minimize" else -1 if g == "maximize" else 0


def _failing(status, waiver) -> bool:
    return status == "fail" and not (isinstance(waiver, str) and waiver)


def _waived(f) -> bool:
    w = f.get("waiver")
    return isinstance(w, str) and bool(w)


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    d = df[df["scope"] != "row"].copy()
    for k in KEY:
        d[k] = d[k].astype(object).where(d[k].notna(), "")
    return d.drop_duplicates(KEY, keep="first").set_index(KEY)


def compare_findings(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The comparison table of two findings tables (see the module docstring).

    Parameters
    ----------
    old, new : pandas.DataFrame
        Findings tables (``findings.SCHEMA`` columns; a table without the ``waiver`` column is read
        as having no waivers).

    Returns
    -------
    pandas.DataFrame
        One row per matched or unmatched finding and per check no longer judged, columns
        :data:`COLUMNS`, sorted by :data:`CHANGE_ORDER`, then by ``effect`` (how many minimum
        effects the change exceeds the noise by; larger is worse), then by key. ``worse_by`` is
        in the statistic's unit (positive: worse); ``regression`` is the exit-1 condition.
    """
    o, n = _keyed(_with_waiver(old)), _keyed(_with_waiver(new))
    rows = []
    for key in o.index.union(n.index, sort=False):
        a = o.loc[key] if key in o.index else None
        b = n.loc[key] if key in n.index else None
        rows.append(_judge(key, a, b))
    rows += _lost_checks(old, new)
    out = pd.DataFrame(rows, columns=COLUMNS)
    order = {c: i for i, c in enumerate(CHANGE_ORDER)}
    out["_o"] = out["change"].map(order)
    out["_e"] = -out["effect"].fillna(0.0)
    return out.sort_values(["_o", "_e", "check_id", "scope", "column", "subgroup", "metric"],
                           kind="stable").drop(columns=["_o", "_e"]).reset_index(drop=True)


def _with_waiver(df: pd.DataFrame) -> pd.DataFrame:
    return df if "waiver" in df.columns else df.assign(waiver=None)


def _lost_checks(old: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    def judged(df):
        d = df[(df["scope"] != "row") & df["status"].isin(VERDICTS)]
        return dict(zip(d["check_id"], d["family"]))
    before, after = judged(old), judged(new)
    out = []
    for cid in sorted(set(before) - set(after)):
        if cid.startswith("gate."):
            continue
        st = sorted(set(new.loc[new["check_id"] == cid, "status"]))
        now = "absent" if not st else "/".join(st)
        out.append(dict(change="no_longer_judged", regression=True, check_id=cid, scope="dataset", column="",
                        subgroup="", metric="", side="", family=before[cid], goal=None, old_status="judged",
                        new_status=now, old_value=np.nan, new_value=np.nan, worse_by=np.nan, noise=np.nan,
                        min_effect=np.nan, effect=np.inf,
                        message=f"{cid} gave a verdict in the old run and none in the new one ({now}): the new "
                                "run judged less"))
    return out


def _judge(key, a, b) -> dict:
    row = dict(zip(KEY, key))
    src = b if b is not None else a
    row.update(family=src["family"], goal=src.get("goal"),
               old_status=None if a is None else a["status"], new_status=None if b is None else b["status"])
    use = "matched_value" if a is not None and b is not None and not pd.isna(a.get("matched_value")) \
        and not pd.isna(b.get("matched_value")) else "value"
    ov, nv = (np.nan if a is None else _num(a.get(use))), (np.nan if b is None else _num(b.get(use)))
    noises = [abs(_num(x.get("threshold")) - _num(x.get("baseline_value"))) for x in (a, b) if x is not None]
    # Two runs' statistics each deviate by up to the single-run spread: their difference by sqrt(2) as much.
    noise = SQRT2 * max((v for v in noises if not np.isnan(v)), default=np.nan)
    mins = [_num(x.get("min_effect")) for x in (a, b) if x is not None]
    min_eff = max((v for v in mins if not np.isnan(v)), default=0.0)
    sign = _direction(src.get("goal"))
    worse = sign * (nv - ov) if sign and not (np.isnan(ov) or np.isnan(nv)) else np.nan
    judged = not (np.isnan(worse) or np.isnan(noise))
    regressed = judged and worse > noise and worse >= min_eff
    improved = judged and -worse > noise and -worse >= min_eff
    effect = (abs(worse) - noise) / min_eff if judged and min_eff > 0 else (abs(worse) - noise if judged else np.nan)
    was_fail = a is not None and _failing(a["status"], a.get("waiver"))
    is_fail = b is not None and _failing(b["status"], b.get("waiver"))
    if is_fail and not was_fail:
        # Without an old counterpart a subgroup (or pair) finding has no baseline to be worse than:
        # which subgroups are compared depends on the synthetic counts of each run.
        unmatched = a is None and row["scope"] in ("subgroup", "column_pair")
        change, regression = "new_failure", bool(regressed or (not judged and not unmatched))
    elif was_fail and b is not None and b["status"] in ("pass", "warn") and not _waived(b):
        change, regression = "fixed", False
    elif was_fail and b is not None and b["status"] in ("skipped", "error"):
        change, regression = "unjudged", False  # a check judged nowhere any more: _lost_checks
    elif b is None:
        change, regression = "missing", False
    elif a is None:
        change, regression = "new", False
    elif regressed:
        change, regression = "worsened", _waived(b)
    elif improved:
        change, regression = "improved", False
    else:
        change, regression = "unchanged", False
    where = ", ".join(f"{k} {row[k]}" for k in ("column", "subgroup") if row[k])
    head = f"{row['check_id']}{' (' + where + ')' if where else ''} {row['metric']}"
    if judged:
        msg = (f"{head}: {ov:.4g} -> {nv:.4g} ({'worse' if worse > 0 else 'better'} by {abs(worse):.4g}; "
               f"calibrated noise {noise:.4g}, minimum effect {min_eff:.4g})")
    else:
        msg = f"{head}: {row['old_status'] or 'absent'} -> {row['new_status'] or 'absent'}" + (
            "" if a is None or b is None else " (no calibrated noise to judge the value by)")
    row.update(change=change, regression=regression, old_value=ov, new_value=nv, worse_by=worse, noise=noise,
               min_effect=min_eff, effect=effect,
               message=msg)
    return row


def regressions(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a comparison table that make it fail."""
    return table[table["regression"].astype(bool)]
