"""``provenance.signature``: the synthetic data matches its signed manifest, signed by a trusted key.

Runs when the synthetic input is a file or folder with a signed sidecar (``<data>.provenance.json``
holding a ``manifest``; see :mod:`synthproof.provenance.manifest`), or always with ``provenance.require_signature: true``
(then a missing manifest fails). Fails when the signature is invalid (the manifest, fields or signature
were edited, or it was signed with another key than the one embedded), valid but by a key not in
``provenance.trusted_keys``, or when records were added, removed or modified since signing (each one
named). Deterministic: takes no share of the gate's false-alarm budget.
"""

from __future__ import annotations

import os

from synthproof.check import Check, register
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.provenance.sidecar import default_sidecar_path


@register
class Signature(Check):
    id = "provenance.signature"
    needs = ("synthetic_file",)
    family = "provenance"
    summary = "Signed manifest: signature valid, by a trusted key; records added/removed/modified since signing."
    metric = "signature_valid"
    goal = "maximize"
    unit = "boolean"
    value_range = "{0, 1}"
    computation = "whole"
    statistical = False
    source = "RFC 8785 (JCS), RFC 6962 (Merkle tree hash), RFC 8032 (Ed25519)"

    def run(self, ctx) -> list[Finding]:
        from synthproof.provenance.signing import verify_data

        cfg = ctx.config.provenance
        path = ctx.synthetic_path
        side = cfg.sidecar or (default_sidecar_path(path) if path else None)
        if path is None:
            if cfg.require_signature:
                return [self._fail("manifest_missing", "the synthetic data was given in memory, not as a file; "
                                   "a signed manifest can only cover files")]
            raise IncomputableError("no_manifest", "the synthetic data is not a file")
        if not cfg.require_signature and not (side and os.path.exists(side)):
            raise IncomputableError("no_manifest", "no signed provenance manifest (provenance.require_signature "
                                    "is false)")
        ctx.use("synthetic_file")
        v = verify_data(path, list(cfg.trusted_keys), sidecar=side)
        if not v.manifest:
            if not cfg.require_signature:
                raise IncomputableError("no_manifest", v.problems[0])
            return [self._fail("manifest_missing", v.problems[0])]
        sig = v.signature
        ok_sig = sig.valid and sig.trusted
        out = [self.finding(
            scope="dataset", value=1.0 if ok_sig else 0.0, status="pass" if ok_sig else "fail",
            reason_code=None if ok_sig else ("untrusted_key" if sig.valid else "invalid_signature"),
            evidence={"key_id": sig.key_id, "valid": sig.valid, "trusted": sig.trusted,
                      "trusted_keys": len(cfg.trusted_keys)},
            message=(f"signed manifest: signature valid, by trusted key {sig.key_id}." if ok_sig else
                     f"signed manifest: {sig.problem}" + ("" if cfg.trusted_keys or not sig.valid else
                                                           " (no provenance.trusted_keys configured)") + "."))]
        for p in v.problems:
            if p != sig.problem:
                out.append(self._fail("manifest_mismatch", p))
        d = v.diff
        changed = len(d.added) + len(d.removed) + len(d.modified)
        out.append(self.finding(
            scope="dataset", metric="records_changed", goal="minimize", unit="records", value=float(changed),
            n_synthetic=v.records_now, status="fail" if changed else "pass",
            evidence={"signed": v.records_signed, "now": v.records_now, "added": len(d.added),
                      "removed": len(d.removed), "modified": len(d.modified), "id_column": v.id_column},
            message=(f"{v.records_now} records now, {v.records_signed} signed: {len(d.added)} added, "
                     f"{len(d.removed)} removed, {len(d.modified)} modified"
                     + (f" (matched by {v.id_column!r})" if v.now_ids is not None else
                        " (matched as a multiset: an edited record counts as one removed and one added)") + ".")))
        cap = int(ctx.max_row_findings)
        for what, rows, ids, side_ in (("added since signing", d.added, d.added_ids, "synthetic"),
                                       ("modified since signing", d.modified, d.modified_ids, "synthetic"),
                                       ("removed since signing", d.removed, d.removed_ids, "signed")):
            for k, r in enumerate(rows[:cap]):
                label = f"{v.id_column}={ids[k]}" if ids else (f"row={r}" if side_ == "synthetic" else f"signed row={r}")
                out.append(self.finding(scope="row", row_id=label, side="synthetic", status="fail",
                                        reason_code="row_evidence", message=f"record {label} {what}."))
        return out

    def _fail(self, reason: str, message: str) -> Finding:
        return self.finding(scope="dataset", value=0.0, status="fail", reason_code=reason, message=message + ".")
