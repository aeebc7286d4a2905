"""A real model-collapse chain for demos, tests and calibration of ``synthproof lineage``.

The generator is a word-bigram language model fitted by maximum likelihood (counts of each word's
successors, with document start and end markers) and sampled ancestrally at temperature 1, without
truncation. Generation ``g`` is sampled from a model fitted on:

* ``replace`` — generation ``g - 1`` only (each model trained on its predecessor's output): the setting
  of Shumailov et al. (2024), where rare events vanish generation after generation (a bigram that is
  not sampled cannot come back);
* ``accumulate`` — the real data plus every earlier generation: the setting of Gerstgrasser et al.
  (2024), where the real data stays in the mix and the error stays bounded.

Every generation has as many documents as the real corpus. Deterministic for a given seed.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from synthproof.text import words

_START, _END = "\x02", "\x03"


class BigramModel:
    """Maximum-likelihood word-bigram model over tokenised documents (``fit`` then ``sample``)."""

    def __init__(self, max_words: int = 200):
        self.max_words = max_words
        self.next: dict[str, tuple[list[str], np.ndarray]] = {}

    def fit(self, docs: list[list[str]]) -> "BigramModel":
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for d in docs:
            seq = [_START, *d, _END]
            for a, b in zip(seq, seq[1:]):
                counts[a][b] += 1
        self.next = {}
        for a, succ in counts.items():
            keys = sorted(succ)
            self.next[a] = (keys, np.cumsum([succ[k] for k in keys], dtype=np.int64))
        return self

    def sample(self, n_docs: int, rng: np.random.Generator) -> list[list[str]]:
        out = []
        for _ in range(n_docs):
            doc, w = [], _START
            while len(doc) < self.max_words:
                keys, cum = self.next[w]
                w = keys[int(np.searchsorted(cum, rng.integers(cum[-1]), side="right"))]
                if w == _END:
                    break
                doc.append(w)
            out.append(doc)
        return out


def collapse_chain(real_texts: list[str], generations: int, mode: str = "replace",
                   seed: int = 0) -> list[pd.DataFrame]:
    """GEN0 (the real texts) and ``generations`` generations of bigram-model samples.

    Returns
    -------
    list of DataFrame
        Column ``text``; generations >= 1 also carry ``real_share``, the real share of the data their
        model was fitted on (1 for generation 1; 0 with ``replace``, 1/g with ``accumulate``).
    """
    if mode not in ("replace", "accumulate"):
        raise ValueError("mode must be 'replace' or 'accumulate'")
    rng = np.random.default_rng(seed)
    real = [words(t) for t in real_texts]
    out = [pd.DataFrame({"text": list(real_texts)})]
    pool, prev = list(real), real
    for g in range(1, generations + 1):
        train = prev if mode == "replace" else pool
        docs = BigramModel().fit(train).sample(len(real), rng)
        share = 1.0 if g == 1 else (0.0 if mode == "replace" else 1.0 / g)
        out.append(pd.DataFrame({"text": [" ".join(d) for d in docs], "real_share": share}))
        prev = docs
        pool = pool + docs
    return out
