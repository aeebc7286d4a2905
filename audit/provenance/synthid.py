"""SynthID-Text detection: the training-free mean and weighted-mean g-value scores of Dathathri et
al. (2024), "Scalable watermarking for identifying large language model outputs", Nature 634,
818–823, on the g-values of transformers' ``SynthIDTextWatermarkLogitsProcessor`` (the generator's
own hashing, so the keys and settings of a ``SynthIDTextWatermarkingConfig`` detect its output).

For a document of token ids x_1..x_L, n-gram length n and depth m (the number of keys), the g-value
g_{t,l} in {0, 1} of position t >= n and layer l is the processor's sampling-table bit of the hash of
(x_{t-n+1}..x_t, key_l). Positions whose (n-1)-token context occurred earlier in the document (within
``context_history_size`` contexts) are masked out, as the generator leaves them unwatermarked. With T
unmasked positions:

    mean score          S = (1 / (T m)) sum_t sum_l g_{t,l}
    weighted mean score S = (1 / (T m)) sum_t sum_l w_l g_{t,l},  w = linspace(10, 1, m) scaled to sum m

(the reference's ``mean_score`` and ``weighted_mean_score``, google-deepmind/synthid-text,
``detector_mean.py``). Unitless, in [0, 1] (weighted: [0, max w]); higher = more evidence. Without the
watermark every g-value is a fair draw from the sampling table, independent across layers and
distinct n-grams, so S has mean p0 (the table's share of ones) and variance
p0 (1 - p0) sum_l w_l^2 / (T m^2); the test statistic is

    z = (S - p0) / sqrt(p0 (1 - p0) sum_l w_l^2 / (T m^2)),   p = 1 - Phi(z)   (one-sided)

which is the KGW z of :mod:`.kgw` for this scheme. Its null was checked on real unwatermarked text
(docs/watermark.md): it is what makes a p-value, and so Benjamini–Hochberg, meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthproof.errors import ConfigError


@dataclass(frozen=True)
class SynthIDScheme:
    """The detection settings; must equal the generator's ``SynthIDTextWatermarkingConfig``.

    Parameters
    ----------
    keys : tuple of int
        One watermarking key per tournament layer (depth m = len(keys) >= 1).
    ngram_len : int, default 5
    sampling_table_size : int, default 65536
    sampling_table_seed : int, default 0
    context_history_size : int, default 1024
    score : {"mean", "weighted_mean"}, default "weighted_mean"
    vocab_size : int, optional
        Token ids must be below it (checked when given).
    """

    keys: tuple[int, ...]
    ngram_len: int = 5
    sampling_table_size: int = 2**16
    sampling_table_seed: int = 0
    context_history_size: int = 1024
    score: str = "weighted_mean"
    vocab_size: int | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigError("SynthID detection needs the generator's keys (watermark.keys_env or keys)",
                              path="watermark.keys")
        if self.score not in ("mean", "weighted_mean"):
            raise ConfigError(f"unknown SynthID score {self.score!r}", path="watermark.score")
        if self.ngram_len < 2:
            raise ConfigError("ngram_len must be at least 2", path="watermark.ngram_len")

    @property
    def depth(self) -> int:
        return len(self.keys)

    @property
    def ngram(self) -> int:
        """Tokens per scored n-gram (a document of L tokens has L - ngram + 1 positions)."""
        return self.ngram_len


def layer_weights(depth: int, score: str) -> np.ndarray:
    """Per-layer weights w (shape (depth,)): ones for ``mean``; ``linspace(10, 1, depth)`` scaled to
    sum to ``depth`` for ``weighted_mean`` (the reference's default)."""
    if score == "mean":
        return np.ones(depth)
    w = np.linspace(10.0, 1.0, depth)
    return w * depth / w.sum()


_PROCESSORS: dict = {}


def processor(scheme: SynthIDScheme):
    """transformers' ``SynthIDTextWatermarkLogitsProcessor`` for ``scheme`` on the CPU (one per scheme
    and process: building it draws the sampling table)."""
    key = (scheme.keys, scheme.ngram_len, scheme.sampling_table_size, scheme.sampling_table_seed,
           scheme.context_history_size)
    if key not in _PROCESSORS:
        from transformers import SynthIDTextWatermarkLogitsProcessor

        _PROCESSORS.clear()
        _PROCESSORS[key] = SynthIDTextWatermarkLogitsProcessor(
            ngram_len=scheme.ngram_len, keys=list(scheme.keys), sampling_table_size=scheme.sampling_table_size,
            sampling_table_seed=scheme.sampling_table_seed, context_history_size=scheme.context_history_size,
            device="cpu")
    return _PROCESSORS[key]


def null_mean(scheme: SynthIDScheme) -> float:
    """p0: the share of ones in the processor's sampling table (the mean g-value without a watermark)."""
    return float(processor(scheme).sampling_table.double().mean())


_MULT, _INC = np.uint64(6364136223846793005), np.uint64(1)  # transformers' accumulate_hash (LCG, newlib/musl)


def repetition_mask(ids: np.ndarray, lengths: np.ndarray, scheme: SynthIDScheme) -> np.ndarray:
    """The context repetition mask of a right-padded batch (shape (B, W - n + 1), True = scored):
    position t is masked when its (n-1)-token context hash occurred at one of the previous
    ``context_history_size`` positions of the same document. Equals the processor's
    ``compute_context_repetition_mask`` (tested; that one keeps a zero-initialised history, so a context
    whose 64-bit hash is exactly 0 would also count as repeated there, with probability 2^-64), in
    O(tokens log tokens) instead of O(tokens x context_history_size)."""
    n = scheme.ngram_len
    b, w = ids.shape
    pos = w - n + 1
    x = ids.astype(np.uint64)
    h = np.ones((b, pos), dtype=np.uint64)
    for k in range(n - 1):  # wraps modulo 2**64, as torch's int64 arithmetic does
        h = (h + x[:, k: k + pos]) * _MULT + _INC
    valid = np.arange(pos)[None, :] < (lengths[:, None] - n + 1)
    rows, cols = np.nonzero(valid)
    hv = h[rows, cols]
    order = np.lexsort((cols, hv, rows))
    r, c, hh = rows[order], cols[order], hv[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (r[1:] == r[:-1]) & (hh[1:] == hh[:-1])
    gap = np.zeros(len(order), dtype=np.int64)
    gap[1:] = c[1:] - c[:-1]
    repeated = np.zeros(len(order), dtype=bool)
    repeated[order] = same & (gap <= scheme.context_history_size)
    mask = np.zeros((b, pos), dtype=bool)
    mask[rows, cols] = ~repeated
    return mask


def g_values(docs: list[np.ndarray], scheme: SynthIDScheme) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per document, ``(g, mask)``: g-values of shape (L - n + 1, depth) (uint8, from the processor's
    ``compute_g_values``) and the context repetition mask of shape (L - n + 1,) (bool, True = scored;
    :func:`repetition_mask`). Documents are scored in length-sorted, right-padded batches; padding
    never reaches a scored position (each position depends only on its own n-gram). Documents
    shorter than n tokens get empty arrays.

    Raises
    ------
    ValueError
        A token id outside ``scheme.vocab_size``.
    """
    import torch

    proc = processor(scheme)
    n = scheme.ngram_len
    out: list = [None] * len(docs)
    lengths = np.array([len(d) for d in docs], dtype=np.int64)
    if scheme.vocab_size is not None:
        for d in docs:
            if len(d) and (int(np.max(d)) >= scheme.vocab_size or int(np.min(d)) < 0):
                raise ValueError(f"a token id is outside the vocabulary of {scheme.vocab_size}: wrong tokenizer")
    order = np.argsort(lengths, kind="stable")
    for i in order[lengths[order] < n]:
        out[i] = (np.zeros((0, scheme.depth), np.uint8), np.zeros(0, bool))
    long_ = order[lengths[order] >= n]
    budget = 1 << 20  # padded tokens per batch
    k = 0
    while k < len(long_):
        j = k + 1
        while j < len(long_) and (j - k + 1) * int(lengths[long_[j]]) <= budget:
            j += 1
        batch = long_[k:j]
        ids = np.zeros((len(batch), int(lengths[batch[-1]])), dtype=np.int64)
        for r, i in enumerate(batch):
            ids[r, : lengths[i]] = docs[i]
        with torch.inference_mode():
            g = proc.compute_g_values(torch.from_numpy(ids)).to(torch.uint8).numpy()
        m = repetition_mask(ids, lengths[batch], scheme)
        for r, i in enumerate(batch):
            p = int(lengths[i]) - n + 1
            out[i] = (g[r, :p], m[r, :p])
        k = j
    return out


def scores(docs: list[np.ndarray], scheme: SynthIDScheme) -> dict[str, np.ndarray]:
    """Score documents of token ids.

    Parameters
    ----------
    docs : list of numpy.ndarray
        Token ids per document (no special tokens).
    scheme : SynthIDScheme

    Returns
    -------
    dict of numpy.ndarray, each of shape (n_docs,)
        ``tokens_scored`` (T, unmasked positions), ``score`` (S, NaN when T = 0), ``z`` and
        ``p_value`` (one-sided, NaN when T = 0).

    Raises
    ------
    ValueError
        A token id outside ``scheme.vocab_size``.
    """
    from scipy.special import ndtr

    w = layer_weights(scheme.depth, scheme.score)
    p0 = null_mean(scheme)
    m = scheme.depth
    n_docs = len(docs)
    t_scored = np.zeros(n_docs)
    s = np.full(n_docs, np.nan)
    for i, (g, mask) in enumerate(g_values(docs, scheme)):
        t = int(mask.sum())
        t_scored[i] = t
        if t:
            s[i] = float((g[mask].astype(np.float64) @ w).sum()) / (t * m)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(p0 * (1 - p0) * float(np.sum(w**2)) / (t_scored * m * m))
        z = np.where(t_scored > 0, (s - p0) / sd, np.nan)
    return {"tokens_scored": t_scored, "score": s, "z": z, "p_value": np.where(np.isnan(z), np.nan, ndtr(-z))}
