"""synthproof — audit synthetic data before anyone trains on it.

>>> import synthproof
>>> result = synthproof.audit(real_df, synthetic_df)      # doctest: +SKIP
>>> result.passed, result.findings.head()                 # doctest: +SKIP
"""

from ._version import __version__
from .api import audit
from .config import AuditConfig, load_config, parse_config
from .errors import (
    ConfigError,
    IncomputableError,
    InputError,
    InvalidParameterError,
    MissingDependencyError,
    SynthproofError,
)
from .findings import SCHEMA, Finding
from .result import AuditResult

__all__ = [
    "SCHEMA",
    "AuditConfig",
    "AuditResult",
    "ConfigError",
    "Finding",
    "IncomputableError",
    "InputError",
    "InvalidParameterError",
    "MissingDependencyError",
    "SynthproofError",
    "__version__",
    "audit",
    "load_config",
    "parse_config",
]
