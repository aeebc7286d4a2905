"""Applications built on the core: ``synthproof lineage`` (:mod:`.lineage`) and the collapse chain
that demonstrates it (:mod:`.collapse`), ``synthproof provenance`` (:mod:`.cli_provenance`), and the
seeded defects of the tests and benchmarks (:mod:`.defects`)."""
