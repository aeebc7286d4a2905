"""``synthproof compliance RUN``: the compliance record of a stored run (click)."""

from __future__ import annotations

import json
import pathlib

import click


@click.command()
@click.argument("run", type=str)
@click.option("--attestations", type=str, default=None, help="The reviewer's attestation YAML (see --template).")
@click.option("--template", "template_path", type=str, default=None,
              help="Write an attestation template to this path and exit.")
@click.option("--key", "key_spec", type=str, default=None,
              help="Sign the record's cover with this Ed25519 private key (file or env:NAME; the provenance key).")
@click.option("--croissant", "croissant_path", type=str, default=None,
              help="Also write a Croissant 1.1 + RAI JSON-LD description of the audited data to this path.")
@click.option("--out", type=str, default=None, help="Folder of the record [default: RUN].")
def compliance(run, attestations, template_path, key_spec, croissant_path, out) -> None:
    """Map a run's findings to EU AI Act, NIST AI 600-1, ISO/IEC 42001 and 5259-2 clauses and write the
    record: compliance_map.parquet, compliance.json, compliance.html (with a datasheet) and, with
    --key, the signed cover compliance.cover.json (verify with `synthproof provenance verify`)."""
    from synthproof.compliance.cover import COVER_NAME, cover_document, run_files, sign_cover, utc_now
    from synthproof.compliance.record import read_attestations, record_files, template
    from synthproof.findings import table_to_frame
    from synthproof.provenance.manifest import key_id, load_private_key, public_bytes
    from synthproof.result import atomic_write, check_writable_folder, output_lock, publish

    from .cli_ci import read_run

    if template_path is not None:
        atomic_write(pathlib.Path(template_path), template().encode())
        click.echo(f"attestation template: {template_path}")
        return
    table, manifest, path = read_run(run)
    answers = read_attestations(attestations)
    cover = {}
    if key_spec is not None:  # fail on the key before writing anything
        cover["key_id"] = key_id(public_bytes(load_private_key(key_spec).public_key()))
    target = pathlib.Path(out) if out else path.parent
    check_writable_folder(target, create=True)
    findings = table_to_frame(table)
    with output_lock(target):
        extra = run_files(path.parent)
        if croissant_path is not None:
            from synthproof.compliance.croissant import write_croissant

            notes = write_croissant(path.parent, pathlib.Path(croissant_path), attestations=answers)
            extra.append(pathlib.Path(croissant_path))
            click.echo(f"croissant: {croissant_path}" + (f" ({len(notes)} note(s))" if notes else ""))
            for note in notes:
                click.echo(f"  note: {note}")
        if cover:
            cover["signed_at"] = utc_now()
        files = record_files(findings, manifest, answers, cover=cover)
        if cover:
            counts = json.loads(files["compliance.json"])["counts"]
            doc = cover_document(files, target, extra, manifest, counts, signed_at=cover["signed_at"])
            files[COVER_NAME] = sign_cover(doc, key_spec)
        publish(target, files)
    click.echo(f"compliance record: {target / 'compliance.html'}"
               + (f"; signed cover {target / COVER_NAME} (key {cover['key_id']})" if cover else ""))
