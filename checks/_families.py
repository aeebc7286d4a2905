"""Import every bundled check module so that each registers its checks."""

from synthproof.checks.bias import checks as bias_checks  # noqa: F401
from synthproof.checks.bias import text as bias_text  # noqa: F401
from synthproof.checks.diversity import checks as diversity_checks  # noqa: F401
from synthproof.checks.diversity import text as diversity_text  # noqa: F401
from synthproof.checks.drift import columns, detection, pairs, sdmetrics_check  # noqa: F401
from synthproof.checks.drift import text as drift_text  # noqa: F401
from synthproof.checks.duplication import checks as duplication_checks  # noqa: F401
from synthproof.checks.duplication import text as duplication_text  # noqa: F401
from synthproof.checks.duplication import contamination  # noqa: F401
from synthproof.checks.provenance import checks as provenance_checks  # noqa: F401
from synthproof.checks.provenance import croissant_rai as provenance_croissant_rai  # noqa: F401
from synthproof.checks.provenance import markers as provenance_markers  # noqa: F401
from synthproof.checks.provenance import signature as provenance_signature  # noqa: F401
from synthproof.checks.provenance import watermark as provenance_watermark  # noqa: F401
from synthproof.checks.validity import checks as validity_checks  # noqa: F401
from synthproof.checks.validity import gx as validity_gx  # noqa: F401
from synthproof.checks.validity import gx_user as validity_gx_user  # noqa: F401
from synthproof.checks.validity import text as validity_text  # noqa: F401
from synthproof.checks.privacy import attacks as privacy_attacks  # noqa: F401
from synthproof.checks.privacy import membership as privacy_membership  # noqa: F401
from synthproof.checks.privacy import pii as privacy_pii  # noqa: F401
from synthproof.checks.duplication import authenticity as duplication_authenticity  # noqa: F401
from synthproof.checks.diversity import fidelity as diversity_fidelity  # noqa: F401
