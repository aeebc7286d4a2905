"""``synthproof provenance keygen | sign | verify`` (click). Keys are read from files or ``env:NAME``;
private key material is never echoed, logged or written anywhere but ``keygen``'s own output file."""

from __future__ import annotations

import json
import os
import pathlib
import sys

import click

from synthproof.errors import InputError

EXIT_PASS, EXIT_FAIL = 0, 1


@click.group()
def provenance() -> None:
    """Sign datasets (per-record hashes, Merkle root, Ed25519) and verify them."""


@provenance.command()
@click.option("--out", type=str, required=True, help="Private key file to create (PEM, mode 0600); "
                                                      "the public key goes to OUT.pub.")
def keygen(out) -> None:
    """Create an Ed25519 key pair (private key OUT, public key OUT.pub)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = pathlib.Path(out)
    if path.exists():
        raise InputError(f"{path} exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pathlib.Path(str(path) + ".pub").write_bytes(pub)
    click.echo(f"private key: {path} (keep it secret); public key: {path}.pub")


@provenance.command()
@click.argument("data", type=str)
@click.option("--key", "key_spec", required=True, help="Ed25519 private key: a PEM file or env:NAME.")
@click.option("--id-column", type=str, default=None, help="Column with a unique id per record.")
@click.option("--generator", "model", type=str, default=None, help="Generator model name.")
@click.option("--generator-version", type=str, default=None, help="Generator model version.")
@click.option("--prompt-template-id", type=str, default=None, help="Prompt template id (LLM generators).")
@click.option("--sampling", type=str, default=None, help='Sampling parameters as JSON, e.g. \'{"temperature": 0.9}\'.')
@click.option("--seed", type=int, default=None, help="Generation seed.")
@click.option("--parent", "parents", multiple=True, help="A parent dataset (path); repeatable.")
@click.option("--generation", type=click.IntRange(0), default=None, help="Generation index (0 = real data).")
@click.option("--sidecar", type=str, default=None, help="Sidecar path [default: DATA.provenance.json].")
def sign(data, key_spec, id_column, model, generator_version, prompt_template_id, sampling, seed, parents,
         generation, sidecar) -> None:
    """Hash every record of DATA and write its signed manifest into DATA.provenance.json (DATA is not modified)."""
    from synthproof.provenance.signing import sign_data

    samp = None
    if sampling:
        try:
            samp = json.loads(sampling)
        except json.JSONDecodeError as exc:
            raise InputError(f"--sampling is not JSON: {exc.msg}") from None
    gen = {"model": model, "version": generator_version, "prompt_template_id": prompt_template_id,
           "sampling": samp, "seed": seed}
    doc = sign_data(data, key_spec, id_column=id_column, generator=gen, parents=list(parents),
                    generation=generation, sidecar=sidecar)
    m, s = doc["manifest"], doc["signature"]
    click.echo(f"signed {m['records']} records of {data}: Merkle root {m['merkle_root']}, key {s['key_id']}; "
               f"sidecar {sidecar or str(data) + '.provenance.json'}, records {m['records_file']}")


@provenance.command()
@click.argument("data", type=str)
@click.option("--public-key", "keys", multiple=True, help="Trusted public key (PEM file or env:NAME); repeatable.")
@click.option("--trusted-keys", "key_files", multiple=True, help="File of trusted public keys (PEM blocks or "
                                                                 "base64 lines).")
@click.option("--sidecar", type=str, default=None, help="Sidecar path [default: DATA.provenance.json].")
def verify(data, keys, key_files, sidecar) -> None:
    """Verify DATA against its signed manifest: signature, trusted key, records added/removed/modified.
    DATA may also be a compliance record's signed cover (compliance.cover.json): then its signature, key
    and the SHA-256 of every file it lists are checked. Exit 0 when all hold, 1 otherwise."""
    from synthproof.compliance.cover import is_cover
    from synthproof.provenance.signing import verify_data

    if is_cover(data):
        _verify_cover(data, list(keys) + list(key_files))
    v = verify_data(data, list(keys) + list(key_files), sidecar=sidecar)
    if not v.manifest:
        click.echo(f"FAIL manifest: {v.problems[0]}")
        sys.exit(EXIT_FAIL)
    sig = v.signature
    click.echo(f"{'PASS' if sig.valid else 'FAIL'} signature: {'valid' if sig.valid else 'invalid'}"
               f" (key {sig.key_id})")
    click.echo(f"{'PASS' if sig.trusted and sig.valid else 'FAIL'} key: "
               f"{'trusted' if sig.trusted else 'not trusted'}")
    d = v.diff
    click.echo(f"{'PASS' if d.clean else 'FAIL'} records: {v.records_now} now, {v.records_signed} signed; "
               f"{len(d.added)} added, {len(d.removed)} removed, {len(d.modified)} modified")
    for what, rows, ids in (("added", d.added, d.added_ids), ("modified", d.modified, d.modified_ids),
                            ("removed", d.removed, d.removed_ids)):
        names = [f"id={i}" for i in ids] if ids else [f"row={r}" for r in rows]
        if names:
            more = f" (+{len(names) - 20} more)" if len(names) > 20 else ""
            click.echo(f"  {what}: {', '.join(map(str, names[:20]))}{more}")
    for p in v.problems:
        if sig.problem is None or p != sig.problem:
            click.echo(f"FAIL {p}")
    sys.exit(EXIT_PASS if v.ok else EXIT_FAIL)


def _verify_cover(path: str, trusted: list[str]) -> None:
    from synthproof.compliance.cover import verify_cover

    v = verify_cover(path, trusted)
    sig = v.signature
    click.echo(f"{'PASS' if sig.valid else 'FAIL'} signature: {'valid' if sig.valid else 'invalid'} (key {sig.key_id})")
    click.echo(f"{'PASS' if sig.trusted and sig.valid else 'FAIL'} key: {'trusted' if sig.trusted else 'not trusted'}")
    bad = [(p, s) for p, s in v.files if s != "ok"]
    click.echo(f"{'PASS' if not bad else 'FAIL'} files: {len(v.files) - len(bad)} of {len(v.files)} unchanged")
    for p, s in bad:
        click.echo(f"  {s}: {p}")
    for p in v.problems:
        if p != sig.problem:
            click.echo(f"FAIL {p}")
    sys.exit(EXIT_PASS if v.ok else EXIT_FAIL)


@provenance.command()
@click.argument("data", type=str)
@click.option("--column", type=str, default="text", show_default=True, help="The text column.")
@click.option("--config", "config_path", type=str, default=None, help="YAML config with a watermark: section.")
@click.option("--out", type=str, required=True, help="Parquet file of per-document scores to write.")
def watermark(data, column, config_path, out) -> None:
    """Score every document of DATA for the watermark of watermark.scheme (KGW: green count; SynthID-Text:
    g-value score): tokens scored, z, p, detected (BH).
    Exit 0 (this command reports; the audit's provenance.kgw_watermark judges)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthproof.api import resolve_config
    from synthproof.provenance.kgw import benjamini_hochberg
    from synthproof.provenance.watermark import (SynthIDTextScorer, load_tokenizer, scheme_from_config, score_texts,
                                                 synthid_scheme_from_config)
    from synthproof.io import load

    cfg = resolve_config(config_path).watermark
    table, _ = load(data, "data")
    if column not in table.column_names:
        raise InputError(f"{data}: no column {column!r} (columns: {', '.join(table.column_names)})")
    texts = ["" if t is None else str(t) for t in table.column(column).to_pylist()]
    tok, vocab = load_tokenizer(cfg.tokenizer)
    if cfg.scheme == "synthid":
        scorer = SynthIDTextScorer(synthid_scheme_from_config(cfg, vocab, tok), tok, min_tokens=cfg.min_tokens)
        scorer.add(texts)
        s = scorer.result()
        value = {"score": s["score"]}
    else:
        s = score_texts(texts, scheme_from_config(cfg, vocab, tok), tok, progress=sys.stderr.isatty(),
                        min_tokens=cfg.min_tokens)
        value = {"green": s["green"]}
    ok = (s["tokens_scored"] >= cfg.min_tokens) & ~np.isnan(s["z"])
    det = benjamini_hochberg(np.where(ok, s["p_value"], np.nan), cfg.fdr)
    pq.write_table(pa.table({"row": np.arange(len(texts)), "tokens": s["tokens"],
                             "tokens_scored": s["tokens_scored"].astype(np.int64),
                             **value, "z": s["z"], "p_value": s["p_value"], "scored": ok,
                             "detected": det}), out, compression="zstd")
    click.echo(f"{int(det.sum())} of {int(ok.sum())} scored documents carry the watermark (BH at {cfg.fdr}); "
               f"{len(texts) - int(ok.sum())} under {cfg.min_tokens} tokens skipped; scores: {out}")
