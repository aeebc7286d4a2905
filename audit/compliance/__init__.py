"""The compliance record (issue 16, in progress): the clause catalogue (:mod:`.clauses`) and the
map from a run's findings to one status per clause (:mod:`.mapping`)."""
