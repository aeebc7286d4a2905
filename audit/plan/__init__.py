"""The out-of-core seam: artefacts built chunk by chunk (``columns``), what each check declares it
needs (``needs``), and where chunks come from (in-memory frames or a stream of record batches)."""
