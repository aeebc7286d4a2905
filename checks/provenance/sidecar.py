"""Kept for code written against the path docs/provenance.md documented first; the sidecar reader
is :mod:`synthproof.provenance.sidecar`."""

from synthproof.provenance.sidecar import Sidecar, SidecarError, default_sidecar_path, load_sidecar  # noqa: F401
