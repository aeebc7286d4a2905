"""synthproof — audit synthetic data before anyone trains on it.

>>> import synthproof
>>> result = synthproof.audit(real_df, synthetic_df)      # doctest: +SKIP
>>> result.passed, result.findings.head()                 # doctest: +SKIP
"""

import os as _os

# OpenMP threads that spin while waiting (GNU libgomp's default) collapse 100x when another
# process shares the cores: a 0.5 s gradient-boosting fit took 100 s on a busy 2-core machine.
# Passive waiting must be chosen before the OpenMP runtime starts, hence here. A value set by the
# user wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._version import __version__  # noqa: E402
from .api import audit, sketch  # noqa: E402
from .config import AuditConfig, load_config, parse_config  # noqa: E402
from .errors import (  # noqa: E402
    ConfigError,
    IncomputableError,
    InputError,
    InvalidParameterError,
    MissingDependencyError,
    SynthproofError,
)
from .findings import SCHEMA, Finding  # noqa: E402
from .result import AuditResult  # noqa: E402

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
    "sketch",
]
