"""Statistical primitives shared by the core, several check families or the applications.

A function lives here when more than one place uses it; one used by a single family stays in that
family's folder (``synthproof.checks.<family>._stats`` and the like). Every module is pure: arrays,
counts or frames in, numbers out; no audit context, no findings. Nothing is imported here: import the
topic module you need (``synthproof.stats.distances``, ``.scale``, ``.auc``, ``.coverage``,
``.hashing``, ``.features``, ``.duplicates``, ``.tokens``, ``.similarity``).
"""
