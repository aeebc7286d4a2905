"""Derive the package list and package data from the source tree (all other metadata: pyproject.toml).

The import package ``synthproof`` is assembled from three source roots (``[tool.setuptools]
package-dir`` in pyproject.toml: audit/ -> synthproof, checks/ -> synthproof.checks, reports/ ->
synthproof.reports). ``[tool.setuptools.packages.find]`` cannot map several roots under one import
name, and a hand-written ``packages`` list silently drops a new subpackage from built wheels (the
editable install still finds it). So both lists are computed here:

* packages: every folder under a root whose name is an identifier -- code packages (with or without
  ``__init__.py``) and data folders such as ``datasets/data/`` and ``reports/templates/`` alike, as
  setuptools wants for data folders (else: "Package ... is absent from the `packages`
  configuration") -- except ``__pycache__``, hidden folders and test/dev trees (``tests``,
  ``bench``);
* package data: every non-code file of a package's folder (and of its subfolders whose names are not
  identifiers), except compiled files, hidden files and editor backups.

tests/test_wheel.py builds the wheel and checks its contents against the source tree.
"""

from __future__ import annotations

import pathlib
import tomllib

from setuptools import setup

HERE = pathlib.Path(__file__).resolve().parent
_SKIP_DIRS = {"__pycache__", "tests", "bench"}
_SKIP_SUFFIXES = {".py", ".pyc", ".pyo"}


def _package_dir() -> dict[str, str]:
    with open(HERE / "pyproject.toml", "rb") as fh:
        return dict(tomllib.load(fh)["tool"]["setuptools"]["package-dir"])


def _skip_dir(d: pathlib.Path) -> bool:
    return d.name in _SKIP_DIRS or d.name.startswith(".")


def _is_package(d: pathlib.Path) -> bool:
    return d.name.isidentifier() and not _skip_dir(d)


def _data_files(pkg_dir: pathlib.Path) -> list[str]:
    """Non-code files of ``pkg_dir`` and of its non-package subfolders, relative to ``pkg_dir``."""
    out = []

    def visit(d: pathlib.Path):
        for child in sorted(d.iterdir()):
            if child.is_dir():
                if not _skip_dir(child) and not _is_package(child):
                    visit(child)
            elif (child.is_file() and child.suffix not in _SKIP_SUFFIXES
                  and not child.name.startswith(".") and not child.name.endswith("~")):
                out.append(child.relative_to(pkg_dir).as_posix())

    visit(pkg_dir)
    return out


def _walk(d: pathlib.Path):
    """``d`` and the package folders below it."""
    yield d
    for child in sorted(d.iterdir()):
        if child.is_dir() and _is_package(child):
            yield from _walk(child)


def _discover() -> tuple[list[str], dict[str, list[str]]]:
    roots = {name: HERE / folder for name, folder in _package_dir().items() if name}
    packages: list[str] = []
    package_data: dict[str, list[str]] = {}
    for name, root in roots.items():
        for d in _walk(root):
            pkg = ".".join([name, *d.relative_to(root).parts])
            if pkg != name and pkg in roots:
                continue  # a folder that package-dir maps elsewhere
            packages.append(pkg)
            data = _data_files(d)
            if data:
                package_data[pkg] = data
    return sorted(packages), package_data


PACKAGES, PACKAGE_DATA = _discover()

setup(packages=PACKAGES, package_data=PACKAGE_DATA)
