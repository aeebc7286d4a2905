"""The Croissant RAI 1.0 vocabulary and the RAI properties a synthproof run can fill.

:func:`rai_from_run` turns a run's findings into sentences for the RAI properties of
:data:`FROM_RUN`; :func:`attested_fields` maps the reviewer's attestations onto RAI and schema.org
properties. Used by :mod:`.croissant` (the export) and by the ``provenance.croissant_rai`` check
(:data:`REVIEWER_FIELDS`).

References: Croissant RAI Specification 1.0, MLCommons (http://mlcommons.org/croissant/RAI/1.0): the
vocabulary ``croissant_rai.ttl``, the overview table of properties per use case, use cases 1 (data
life cycle), 4 (AI safety and fairness) and 6 (regulatory compliance); mlcroissant 1.1.1
(``mlcroissant._src.core.constants``) for the spellings it uses.
"""

from __future__ import annotations

import os

import pandas as pd

from synthproof.errors import InputError

RAI_NS = "http://mlcommons.org/croissant/RAI/"

#: The RAI 1.0 vocabulary (``croissant_rai.ttl``), every property of domain ``sc:Dataset``.
RAI_PROPERTIES = (
    "dataCollection", "dataCollectionType", "dataCollectionMissingData", "dataCollectionRawData",
    "dataCollectionTimeframe", "dataPreprocessingProtocol", "dataImputationProtocol", "dataManipulationProtocol",
    "dataReleaseMaintenancePlan", "personalSensitiveInformation", "dataAnnotationProtocol",
    "dataAnnotationPlatform", "dataAnnotationAnalysis", "annotationsPerItem", "annotatorDemographics",
    "machineAnnotationTools", "dataSocialImpact", "dataBiases", "dataLimitations", "dataUseCases",
)

#: The two RAI 1.0 properties mlcroissant 1.1.1 names differently (vocabulary name -> mlcroissant's IRI
#: local name, ``mlcroissant._src.core.constants``); a file using the vocabulary's names loses them
#: when mlcroissant loads it, one using mlcroissant's is not RAI 1.0.
MLCROISSANT_SPELLINGS = {"dataCollectionTimeframe": "dataCollectionTimeFrame",
                         "dataManipulationProtocol": "dataDataManipulationProtocol"}

#: The RAI properties a reviewer needs (``provenance.croissant_rai`` fails without them): those the
#: RAI 1.0 overview table assigns to use case 1 (data life cycle), 4 (AI safety and fairness) and
#: 6 (regulatory compliance), annotation properties aside (they apply to labelled data only).
REVIEWER_FIELDS = ("dataCollection", "dataUseCases", "dataLimitations", "dataBiases",
                   "personalSensitiveInformation", "dataReleaseMaintenancePlan", "dataManipulationProtocol")

#: The RAI properties this export fills from a run (when the run has the findings for them).
FROM_RUN = ("dataLimitations", "dataBiases", "dataPreprocessingProtocol", "personalSensitiveInformation",
            "dataCollectionMissingData", "dataCollectionRawData", "dataCollection")

#: RAI properties of cardinality ONE in mlcroissant 1.1.1: written as one string (a list would be cut
#: to its first item on loading).
_ONE = {"dataCollection", "dataCollectionMissingData", "dataCollectionRawData", "dataImputationProtocol",
        "dataManipulationProtocol", "dataSocialImpact", "dataReleaseMaintenancePlan", "annotationsPerItem"}

#: The reviewer's answers that fill RAI properties: datasheet sections and clause ids of the
#: attestation file (:mod:`.record`).
ATTESTED_DATASHEET = {"collection": "dataCollection", "preprocessing": "dataPreprocessingProtocol",
                      "uses": "dataUseCases", "maintenance": "dataReleaseMaintenancePlan"}
ATTESTED_CLAUSES = {"Art. 10(2)(b)": "dataCollection", "Art. 10(2)(c)": "dataPreprocessingProtocol",
                    "Art. 10(2)(g)": "dataBiases", "Art. 10(2)(h)": "dataLimitations",
                    "Art. 4a(1)": "personalSensitiveInformation"}
#: schema.org properties a plain attestation dict may set (Croissant 1.1 "Required" and "Recommended").
SCHEMA_KEYS = ("name", "license", "url", "version", "citeAs", "datePublished", "creator")

MAX_LINES = 20  # findings quoted per RAI property; the rest are counted


def _live(findings: pd.DataFrame) -> pd.DataFrame:
    return findings[findings["scope"] != "row"]


def _flagged(f: pd.DataFrame, what: str) -> list[str]:
    """The failing then warning findings of ``f`` as ``[check status] message`` lines, at most
    :data:`MAX_LINES`, then a count of the rest."""
    order = {"fail": 0, "warn": 1}
    g = f[f["status"].isin(order)]
    g = g.assign(_o=g["status"].map(order)).sort_values(["_o", "check_id"], kind="stable")
    lines = [f"[{r.check_id} {r.status}] {r.message}" for r in g.head(MAX_LINES).itertuples()]
    if len(g) > MAX_LINES:
        lines.append(f"... and {len(g) - MAX_LINES} more failing or warning {what} findings (findings.parquet).")
    return lines


def _counts(f: pd.DataFrame) -> str:
    c = f["status"].value_counts()
    return ", ".join(f"{int(c.get(s, 0))} {s}" for s in ("fail", "warn", "pass"))


def sensitive_columns(findings: pd.DataFrame) -> list[str]:
    """The columns the bias checks formed subgroups of (``col=value&col=value`` subgroup labels)."""
    subs = findings.loc[(findings["family"] == "bias") & findings["subgroup"].notna(), "subgroup"]
    return sorted({part.split("=", 1)[0] for s in subs.astype(str) for part in s.split("&") if "=" in part})


def _skipped_subgroups(f: pd.DataFrame) -> list[str]:
    out = []
    small = f[(f["status"] == "skipped") & (f["reason_code"] == "min_group_size")]
    for cid, g in small.groupby("check_id", sort=True):
        if g["subgroup"].notna().all():
            named = sorted({str(s) for s in g["subgroup"] if "(value hidden)" not in str(s)})
            shown = ", ".join(named[:10]) + (f" and {len(named) - 10} more" if len(named) > 10 else "")
            hidden = int(g["subgroup"].astype(str).str.contains("(value hidden)", regex=False).sum())
            out.append(f"[{cid}] {len(g)} subgroups not compared (fewer real rows than bias.min_group_size)"
                       + (f": {shown}" if shown else "") + (f"; {hidden} more whose values are hidden "
                                                             "(small subgroups)" if hidden else "") + ".")
        else:
            out += [f"[{cid} skipped] {m}" for m in g["message"].head(MAX_LINES)]
    return out


def _not_run(f: pd.DataFrame, families: tuple[str, ...] | None = None) -> list[str]:
    s = f[(f["status"] == "skipped") & (f["scope"] == "dataset")
          & ~f["reason_code"].isin(["no_applicable_columns", "disabled", "not_configured", "min_group_size"])]
    if families is not None:
        s = s[s["family"].isin(families)]
    return [f"Not audited ({reason}): {', '.join(sorted(set(g['check_id'])))}."
            for reason, g in s.groupby("reason_code", sort=True)]


def rai_from_run(findings: pd.DataFrame, manifest: dict, collection: list[str] = ()) -> dict[str, list[str]]:
    """The RAI properties the run fills, each as a list of sentences (absent when the run has nothing
    to say: the checks did not run).

    Parameters
    ----------
    findings : pandas.DataFrame
        The run's findings table.
    manifest : dict
        The run's manifest.
    collection : list of str
        Sentences on how the synthetic data was generated (:func:`provenance`).

    Returns
    -------
    dict
        RAI property name (without prefix, :data:`FROM_RUN`) -> sentences.
    """
    from .datasheet import preprocessing

    f = _live(findings)
    judged = f[f["status"].isin(["pass", "warn", "fail"])]
    out: dict[str, list[str]] = {}
    verdict = manifest.get("verdict")
    lim = [f"synthproof {manifest.get('version')} run {manifest.get('run_id')} ({manifest.get('finished_at')}): "
           f"the gate "
           f"{'passed' if verdict == 'pass' else 'failed' if verdict == 'fail' else 'gave no verdict'}; "
           f"{_counts(judged)} findings, each judged against real/real splits of the real data."]
    quality = f[f["family"].isin(["drift", "diversity", "validity", "gate"])]
    out["dataLimitations"] = (lim + _flagged(quality, "drift, diversity or validity") + _skipped_subgroups(f)
                              + _not_run(f))
    bias = judged[judged["family"] == "bias"]
    if len(bias):
        cols = sensitive_columns(f)
        out["dataBiases"] = [f"Bias audit over {f.loc[f['family'] == 'bias', 'subgroup'].dropna().nunique()} "
                             f"subgroups of the sensitive columns {', '.join(cols) or '(none found)'}: "
                             f"{_counts(bias)} findings ({', '.join(sorted(set(bias['check_id'])))}), judged "
                             "against real/real splits."] + _flagged(bias, "bias")
    dedup = preprocessing(findings)
    if dedup:
        out["dataPreprocessingProtocol"] = ["synthproof did not change the data; its duplication checks counted "
                                            "what a deduplication step would remove:"] + dedup
    priv = f[f["family"] == "privacy"]
    cols = sensitive_columns(f)
    pii = ([f"Sensitive attributes present and audited for bias: {', '.join(cols)}."] if cols else [])
    pii += [f"[{r.check_id} {r.status}] {r.message}" for r in priv[priv["status"].isin(["pass", "warn", "fail"])]
            .sort_values("check_id", kind="stable").head(MAX_LINES).itertuples()]
    if pii:
        out["personalSensitiveInformation"] = pii + _not_run(f, ("privacy",))
    miss = judged[judged["check_id"].isin(["drift.missing_rate", "validity.column_quality"])]
    if len(miss):
        out["dataCollectionMissingData"] = [f"Missing values, synthetic against real (drift.missing_rate, "
                                            f"validity.column_quality): {_counts(miss)} findings."] \
            + _flagged(miss, "missing-value")
    raw = [f"{i.get('name')} data: {os.path.basename(str(i.get('source')).rstrip('/'))}, {int(i.get('rows') or 0):,} "
           f"rows x {int(i.get('columns') or 0)} columns, content hash {i.get('content_hash')}."
           for i in manifest.get("inputs") or [] if i.get("name") in ("real", "holdout")]
    if raw:
        out["dataCollectionRawData"] = ["The synthetic data imitates this real data (as recorded by the run):"] + raw
    if collection:
        out["dataCollection"] = list(collection)
    return out


def attested_fields(attestations) -> tuple[dict[str, list[str]], dict[str, object]]:
    """The reviewer's answers as RAI properties and schema.org properties.

    Parameters
    ----------
    attestations : synthproof.compliance.record.Attestations, dict or None
        An attestation file's answers (clauses and datasheet sections, mapped by
        :data:`ATTESTED_CLAUSES` and :data:`ATTESTED_DATASHEET`), or a plain dict whose keys are clause
        ids, datasheet section keys, RAI property names (``rai:`` optional) or :data:`SCHEMA_KEYS`.

    Raises
    ------
    InputError
        A plain dict key that is none of these.
    """
    rai: dict[str, list[str]] = {}
    schema: dict[str, object] = {}
    if attestations is None:
        return rai, schema
    if hasattr(attestations, "clauses") and hasattr(attestations, "datasheet"):
        items = [(k, v, "clause") for k, v in sorted(attestations.clauses.items())] + \
                [(k, v, "sheet") for k, v in sorted(attestations.datasheet.items())]
    elif isinstance(attestations, dict):
        items = [(str(k), v, "any") for k, v in sorted(attestations.items(), key=lambda kv: str(kv[0]))]
    else:
        raise InputError(f"attestations: expected a mapping, got {type(attestations).__name__}")
    for key, value, kind in items:
        text = "" if value is None else str(value).strip()
        bare = key[4:] if key.startswith("rai:") else key
        if kind in ("clause", "any") and key in ATTESTED_CLAUSES:
            prop = ATTESTED_CLAUSES[key]
        elif kind in ("sheet", "any") and key in ATTESTED_DATASHEET:
            prop = ATTESTED_DATASHEET[key]
        elif kind == "any" and bare in RAI_PROPERTIES:
            prop = bare
        elif kind == "any" and key in SCHEMA_KEYS:
            if text:
                schema[key] = {"@type": "sc:Person", "name": text} if key == "creator" else text
            continue
        elif kind == "any":
            raise InputError(f"attestations: unknown key {key!r} (a clause id, a datasheet section, an RAI property "
                             f"or one of {', '.join(SCHEMA_KEYS)})")
        else:
            continue  # clauses and sections with no RAI property
        if text:
            rai.setdefault(prop, []).append(text)
    return rai, schema


