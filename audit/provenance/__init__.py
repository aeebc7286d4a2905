"""The provenance library: what the provenance checks, ``synthproof provenance`` and
``synthproof lineage`` read, write and score.

* :mod:`.sidecar` — the ``<data>.provenance.json`` sidecar (format v1): strict reading;
* :mod:`.tags` — reading tag values (``is_synthetic`` flags, timestamps);
* :mod:`.manifest` — RFC 8785 records, the RFC 6962 Merkle root, Ed25519 keys and signatures;
* :mod:`.signing` — sign a dataset, verify it, walk its parents;
* :mod:`.kgw` — KGW green-list watermark scoring (transformers-compatible) and
  :mod:`.watermark` — tokenizers and corpus scoring for it;
* :mod:`.markers` — hidden-marker scanning (invisible characters, bidi controls, mixed scripts).

The checks built on them (``provenance.*``) are in ``synthproof.checks.provenance``.
"""
