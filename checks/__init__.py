"""The bundled check families: ``drift``, ``duplication``, ``validity`` (one subpackage each).

Each family keeps its pure statistics in ``_stats.py``-style modules apart from the check classes.
Importing :mod:`synthproof.checks._families` registers every bundled check.
"""
