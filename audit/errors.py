"""Exceptions raised by synthproof.

The tree::

    SynthproofError                 base of everything synthproof raises on purpose
    ├── InputError                  missing, unreadable or corrupt file, zero rows, no shared columns
    ├── ConfigError                 invalid config file or flag; ``path`` says where (``checks.drift.ks``)
    │   └── InvalidParameterError   a check parameter out of its declared range
    ├── MissingDependencyError      an optional extra is not installed; the message says what to install
    └── IncomputableError           a check cannot run on this data; becomes a ``skipped`` finding

The command line maps ``InputError`` and ``ConfigError`` to exit code 2 and anything else
unexpected to exit code 3.
"""

from __future__ import annotations


class SynthproofError(Exception):
    """Base class of every error synthproof raises on purpose."""


class InputError(SynthproofError):
    """An input file is missing, unreadable, corrupt, empty, or shares no column with the other."""


class ConfigError(SynthproofError):
    """An invalid config or flag.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str, optional
        Dotted location in the config (``checks.drift.ks.min_effect``), or ``None``.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class InvalidParameterError(ConfigError, ValueError):
    """A check parameter outside its declared constraint (scikit-learn's message template)."""


class MissingDependencyError(SynthproofError, ImportError):
    """An optional dependency is missing; the message names the ``pip install`` that fixes it."""


class IncomputableError(SynthproofError):
    """A check cannot be computed on this data.

    Parameters
    ----------
    reason_code : str
        Machine-readable reason stored in the finding (e.g. ``no_numeric_columns``).
    message : str
        One deterministic human sentence.
    """

    def __init__(self, reason_code: str, message: str) -> None:
        self.reason_code = reason_code
        super().__init__(message)
