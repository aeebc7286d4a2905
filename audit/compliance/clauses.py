"""The clauses a compliance reviewer answers, and which evidence of a run bears on each.

Each :class:`Clause` names its framework and clause id, a short gist in this project's words (no
clause text is quoted), how the run can evidence it (``auto``: the findings decide; ``partial``:
the findings bear on it and a person completes it; ``attested``: only a person can say) and the
check ids or families whose findings count (a bare family name stands for all its checks).

Sources: Regulation (EU) 2024/1689 (AI Act), Art. 10, Art. 50(2), Art. 53(1)(d), Annex IV; the
European Commission's Digital Omnibus proposal COM(2025) 836 (Art. 4a, ex-Art. 10(5)); NIST AI
600-1 (2024), Generative AI Profile, actions MS-2.7-005, MS-2.10-003, MS-2.11-005; ISO/IEC
42001:2023 Annex A.7; ISO/IEC 5259-2:2024 data-quality characteristics.
"""

from __future__ import annotations

from dataclasses import dataclass

EVIDENCE_KINDS = ("auto", "partial", "attested")


@dataclass(frozen=True)
class Clause:
    framework: str
    clause_id: str
    gist: str
    evidence_kind: str
    checks: tuple[str, ...] = ()
    source: str = ""


AI_ACT = "EU AI Act"
NIST = "NIST AI 600-1"
ISO42001 = "ISO/IEC 42001"
ISO5259 = "ISO/IEC 5259-2"

CLAUSES: tuple[Clause, ...] = (
    Clause(AI_ACT, "Art. 10(2)(a)", "relevant design choices for the data", "attested", (), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 10(2)(b)", "data collection processes and the origin of the data", "partial",
           ("provenance",), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 10(2)(c)", "data-preparation operations (cleaning, deduplication, enrichment)", "partial",
           ("duplication.exact_duplicates", "duplication.near_duplicates", "validity"), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 10(2)(d)", "assumptions about what the data measure and represent", "attested", (),
           "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 10(2)(e)", "availability, quantity and suitability of the data", "auto",
           ("gate.evidence", "drift", "diversity"), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 10(2)(f)", "examination for possible biases", "auto", ("bias",), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 10(2)(g)", "measures to detect, prevent and mitigate biases", "partial", ("bias",),
           "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 10(2)(h)", "data gaps and shortcomings, and how they are addressed", "auto",
           ("diversity.category_coverage", "diversity.tail_retention", "validity", "bias.representation"),
           "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 10(3)", "relevant, representative, free of errors and complete as far as possible",
           "auto", ("drift", "validity", "diversity", "bias.representation"), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 10(4)", "characteristics of the setting where the system is used", "partial",
           ("bias.representation", "bias.subgroup_drift"), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 4a(1)", "special categories of personal data processed only as needed to detect bias, "
           "with safeguards", "partial", ("privacy",), "COM(2025) 836 (ex-Art. 10(5) of Reg. (EU) 2024/1689)"),
    Clause(AI_ACT, "Annex IV 2(d)", "datasheets: provenance, scope, characteristics, selection and cleaning of the "
           "training data", "partial", ("provenance", "duplication", "validity"), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Annex IV 2(g)", "validation and testing: metrics, test logs and reports, dated and signed",
           "auto", ("gate.evidence", "gate.coverage"), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 50(2)", "synthetic content marked machine-readably and detectable (marking coverage, "
           "detection rate)", "auto", ("provenance.kgw_watermark", "provenance.synthid_watermark",
                                       "provenance.hidden_markers", "provenance.signature",
                                       "provenance.required_fields"), "Reg. (EU) 2024/1689"),
    Clause(AI_ACT, "Art. 53(1)(d)", "summary of the content used for training", "partial", ("provenance",),
           "Reg. (EU) 2024/1689"),
    Clause(NIST, "MS-2.10-003", "deduplicate training data, particularly synthetic data", "auto", ("duplication",),
           "NIST AI 600-1"),
    Clause(NIST, "MS-2.11-005", "synthetic share, homogeneity and model collapse of training data", "auto",
           ("provenance.synthetic_share", "diversity", "duplication.near_duplicates"), "NIST AI 600-1"),
    Clause(NIST, "MS-2.7-005", "false positive and negative rates of content provenance (watermarks, signatures)",
           "auto", ("provenance.kgw_watermark", "provenance.synthid_watermark", "provenance.signature"),
           "NIST AI 600-1"),
    Clause(ISO42001, "A.7.2", "data for the development and enhancement of AI systems", "attested", (),
           "ISO/IEC 42001:2023 Annex A"),
    Clause(ISO42001, "A.7.3", "acquisition of data", "partial", ("provenance",), "ISO/IEC 42001:2023 Annex A"),
    Clause(ISO42001, "A.7.4", "quality of data for AI systems", "auto", ("drift", "validity", "diversity", "bias"),
           "ISO/IEC 42001:2023 Annex A"),
    Clause(ISO42001, "A.7.5", "data provenance", "auto", ("provenance",), "ISO/IEC 42001:2023 Annex A"),
    Clause(ISO42001, "A.7.6", "data preparation", "partial", ("duplication", "validity"),
           "ISO/IEC 42001:2023 Annex A"),
    Clause(ISO5259, "accuracy", "values agree with the real data's domain and rules", "auto", ("validity",),
           "ISO/IEC 5259-2:2024"),
    Clause(ISO5259, "completeness", "missing values and categories", "auto",
           ("drift.missing_rate", "drift.category_missing", "diversity.category_coverage"), "ISO/IEC 5259-2:2024"),
    Clause(ISO5259, "consistency", "relations between attributes kept", "auto", ("drift.pair_association",),
           "ISO/IEC 5259-2:2024"),
    Clause(ISO5259, "representativeness", "distribution of the target population", "auto",
           ("drift", "bias.representation"), "ISO/IEC 5259-2:2024"),
    Clause(ISO5259, "diversity", "variety of the records", "auto", ("diversity",), "ISO/IEC 5259-2:2024"),
    Clause(ISO5259, "balance", "subgroups represented in proportion", "auto", ("bias.representation",),
           "ISO/IEC 5259-2:2024"),
    Clause(ISO5259, "identifiability", "risk of identifying persons from the data", "auto", ("privacy",),
           "ISO/IEC 5259-2:2024"),
    Clause(ISO5259, "traceability", "origin and lineage of the records", "auto", ("provenance",),
           "ISO/IEC 5259-2:2024"),
    Clause(ISO5259, "currentness", "the data are of the right age for their use", "attested", (),
           "ISO/IEC 5259-2:2024"),
)
