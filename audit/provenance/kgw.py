"""KGW green-list watermark scoring, compatible with Hugging Face ``transformers``.

Kirchenbauer, Geiping, Wen, Katz, Miers & Goldstein (2023), "A Watermark for Large Language Models",
ICML (arXiv:2301.10226); the seeding schemes of Kirchenbauer et al. (2024), "On the Reliability of
Watermarks for Large Language Models", ICLR (arXiv:2306.04634). The green list of a position is the
first ``int(vocab_size * greenlist_ratio)`` ids of a pseudo-random permutation of the vocabulary
seeded from the preceding token(s); a watermarking generator adds ``bias`` to the green logits, so
watermarked text holds more green tokens than the ratio gamma. Under the null (text written without
the key), each scored token is green with probability gamma:

    z = (G - gamma * T) / sqrt(T * gamma * (1 - gamma)),    p = P(N(0, 1) > z) = erfc(z / sqrt 2) / 2

with T tokens scored and G of them green (one-sided: only an excess of green tokens is evidence).

Compatibility: the permutation, the seeds and the scored n-grams are those of
``transformers.WatermarkLogitsProcessor`` / ``transformers.WatermarkDetector`` (``lefthash`` and
``selfhash`` seeding, ``context_width``, ``ignore_repeated_ngrams``), computed with the same torch
generator (``torch.randperm`` on the CPU), so z-scores agree with ``WatermarkDetector`` to rounding
(``tests/test_watermark.py`` compares them). Unlike ``WatermarkDetector``, which re-seeds for every
n-gram of every document, this scorer groups all n-grams of a corpus by seed and draws each green
list once: a corpus costs one permutation per distinct seed (at most the vocabulary size with
``lefthash``), so 100k documents are scored in seconds, not hours. Needs ``torch`` (the ``text``
extra): the green lists are defined by torch's generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
from scipy.special import erfc

#: transformers' defaults (``WatermarkingConfig``).
DEFAULT_HASHING_KEY = 15485863
TABLE_SIZE = 1_000_003  # transformers' fixed hashing table for ``selfhash``
_MOD = 2**64 - 1


@dataclass(frozen=True)
class KGWScheme:
    """The watermark's settings; they must equal the generator's ``WatermarkingConfig``.

    Attributes
    ----------
    vocab_size : int
        The model's vocabulary size (``model.config.vocab_size``), > 1.
    greenlist_ratio : float
        gamma, in (0, 1); default 0.25.
    hashing_key : int
        The private key (non-negative); transformers' default 15485863.
    seeding_scheme : {"lefthash", "selfhash"}
    context_width : int
        Previous tokens used to seed (>= 1); default 1.
    ignore_repeated_ngrams : bool
        Score each distinct n-gram of a document once (``WatermarkDetector(ignore_repeated_ngrams=True)``).
        Default True, unlike transformers' detector: counting repeats makes z over-dispersed on
        repetitive real text (on 1,240 Debian fortunes and 554 news/Wikipedia documents the null SD
        was 1.13 and 1.12 with repeats and 0.98 and 0.99 without, and z > 4 occurred only with repeats).
    bos_token_id : int or None
        A leading token equal to it is dropped before scoring, as ``WatermarkDetector`` does.
    """

    vocab_size: int
    greenlist_ratio: float = 0.25
    hashing_key: int = DEFAULT_HASHING_KEY
    seeding_scheme: str = "lefthash"
    context_width: int = 1
    ignore_repeated_ngrams: bool = True
    bos_token_id: int | None = None

    def __post_init__(self) -> None:
        if self.seeding_scheme not in ("lefthash", "selfhash"):
            raise ValueError(f"seeding_scheme must be 'lefthash' or 'selfhash', got {self.seeding_scheme!r}")
        if not 0.0 < self.greenlist_ratio < 1.0:
            raise ValueError(f"greenlist_ratio must be in (0, 1), got {self.greenlist_ratio}")
        if self.vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {self.vocab_size}")
        if self.context_width < 1:
            raise ValueError(f"context_width must be >= 1, got {self.context_width}")
        if self.hashing_key < 0:
            raise ValueError("hashing_key must be non-negative")

    @property
    def greenlist_size(self) -> int:
        return int(self.vocab_size * self.greenlist_ratio)

    @property
    def ngram(self) -> int:
        """Length of a scored window: ``context_width + 1`` (lefthash) or ``context_width`` (selfhash)."""
        return self.context_width + (self.seeding_scheme == "lefthash")


def z_score(green: np.ndarray, scored: np.ndarray, gamma: float) -> np.ndarray:
    """KGW z-score ``(G - gamma T) / sqrt(T gamma (1 - gamma))``; NaN where T = 0. Unitless, higher =
    more watermark evidence; ~N(0, 1) for unwatermarked text."""
    g, t = np.asarray(green, dtype=np.float64), np.asarray(scored, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t > 0, (g - gamma * t) / np.sqrt(t * gamma * (1 - gamma)), np.nan)


def p_value(z: np.ndarray) -> np.ndarray:
    """One-sided normal p-value ``erfc(z / sqrt 2) / 2`` (transformers' ``_compute_pval``); in [0, 1]."""
    return 0.5 * erfc(np.asarray(z, dtype=np.float64) / np.sqrt(2.0))


def benjamini_hochberg(p: np.ndarray, q: float) -> np.ndarray:
    """Benjamini & Hochberg (1995) step-up rejections at FDR level ``q`` over the non-NaN p-values
    (:func:`synthproof.calibration.bh_reject`; NaN is never rejected). Boolean array shaped like ``p``."""
    from synthproof.calibration import bh_reject

    p = np.asarray(p, dtype=np.float64)
    out = np.zeros(p.shape, dtype=bool)
    ok = ~np.isnan(p)
    out[ok] = bh_reject(p[ok], q)
    return out


def _fixed_table(scheme: KGWScheme):
    import torch

    rng = torch.Generator(device="cpu")
    rng.manual_seed(scheme.hashing_key)
    return torch.randperm(TABLE_SIZE, generator=rng).numpy().astype(np.int64)


def _windows(ids: Sequence[int], scheme: KGWScheme) -> np.ndarray:
    """The scored windows of one document, shape (n_windows, ngram), int64 (repeats included)."""
    a = np.asarray(ids, dtype=np.int64)
    if scheme.bos_token_id is not None and a.size and a[0] == scheme.bos_token_id:
        a = a[1:]
    n = scheme.ngram
    if a.size - scheme.context_width < 1 or a.size < n:
        return np.empty((0, n), dtype=np.int64)
    return np.lib.stride_tricks.sliding_window_view(a, n)


def _distinct(allw: np.ndarray, owner: np.ndarray, vocab: int, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """The first occurrence of every (document, window) pair, for the whole corpus at once (one sort,
    not one per document): an exact integer key when it fits in 63 bits, else row-wise ``np.unique``."""
    if n_docs * vocab ** allw.shape[1] < 2**63:
        key = owner.astype(np.int64)
        for j in range(allw.shape[1]):
            key = key * vocab + allw[:, j]
        _, first = np.unique(key, return_index=True)
    else:
        _, first = np.unique(np.column_stack([owner, allw]), axis=0, return_index=True)
    first.sort()
    return allw[first], owner[first]


def window_seeds(windows: np.ndarray, scheme: KGWScheme, table: np.ndarray | None = None) -> np.ndarray:
    """transformers' seed of each window (``WatermarkLogitsProcessor.set_seed`` of its prefix), uint64.

    ``lefthash``: ``hashing_key * prefix[-1] mod (2**64 - 1)``. ``selfhash``: the minimum over the
    window of ``hashing_key * (T[x] + 1) * (T[last] + 1)`` in wrapping int64 arithmetic (as torch
    computes it), then ``mod (2**64 - 1)``, with T the key-seeded permutation of ``TABLE_SIZE``.
    """
    if windows.shape[0] == 0:
        return np.empty(0, dtype=np.uint64)
    if scheme.seeding_scheme == "lefthash":
        prev = windows[:, -2]
        uniq, inv = np.unique(prev, return_inverse=True)
        seeds = np.array([(scheme.hashing_key * int(t)) % _MOD for t in uniq.tolist()], dtype=np.uint64)
        return seeds[inv]
    if table is None:
        table = _fixed_table(scheme)
    with np.errstate(over="ignore"):
        a = table[windows % TABLE_SIZE] + 1
        b = table[windows[:, -1] % TABLE_SIZE] + 1
        prod = (np.int64(scheme.hashing_key) * a) * b[:, None]
    mins = prod.min(axis=1)
    return np.array([int(s) % _MOD for s in mins.tolist()], dtype=np.uint64)


class GreenCounter:
    """Green-token counts of documents fed in batches (:func:`score_token_ids` without holding a
    corpus): windows are buffered and each green list is drawn once per flush of ``flush_windows``
    windows, not once per batch — transformers' green list depends only on the window's seed, so
    the counts equal one pass over the whole corpus (tested).

    Parameters
    ----------
    scheme : KGWScheme
    flush_windows : int, default 2**20
        Buffered windows (20 bytes each) that trigger drawing their green lists. A flush takes
        ~80 bytes a window for a moment; with the cache, seeds already drawn cost a lookup, so
        small flushes cost little more than large ones.
    progress : callable, optional
        Wraps the iterable of distinct seeds of a flush.
    cache : GreenCache, optional
        Green lists kept across flushes (and shared with other counters of the same scheme, e.g.
        the other side of an audit); default: a new :class:`GreenCache` of ``cache_bytes``.
    cache_bytes : int, default 2**28
        Size of the default cache.
    """

    def __init__(self, scheme: KGWScheme, flush_windows: int = 1 << 20,
                 progress: Callable[[Iterable], Iterable] | None = None, cache_bytes: int = 1 << 28,
                 cache: "GreenCache | None" = None) -> None:
        self.scheme, self.flush_windows, self.progress = scheme, flush_windows, progress
        self.cache = cache if cache is not None else GreenCache(scheme, cache_bytes)
        if self.cache.scheme != scheme:
            raise ValueError("the green-list cache belongs to another watermark scheme")
        self.table = _fixed_table(scheme) if scheme.seeding_scheme == "selfhash" else None
        self.scored: list[np.ndarray] = []
        self.green = np.zeros(0, dtype=np.float64)
        self.n_docs = 0
        self.buf: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.held = 0

    def add(self, docs: Sequence[Sequence[int]]) -> None:
        """Documents ``n_docs ..`` (token ids), in order."""
        scheme = self.scheme
        per_doc = [_windows(d, scheme) for d in docs]
        n = len(per_doc)
        lens = np.array([w.shape[0] for w in per_doc], dtype=np.int64)
        scored = lens.astype(np.float64)
        if lens.sum():
            allw = np.concatenate([w for w in per_doc if w.shape[0]], axis=0).astype(np.int64, copy=False)
            owner = np.repeat(np.arange(n), lens)
            bad = (allw < 0) | (allw >= scheme.vocab_size)
            if bad.any():
                raise ValueError(f"token id {int(allw[bad][0])} is outside the vocabulary [0, {scheme.vocab_size}): "
                                 "the tokenizer does not match watermark.vocab_size")
            if scheme.ignore_repeated_ngrams:
                allw, owner = _distinct(allw, owner, scheme.vocab_size, n)
                scored = np.bincount(owner, minlength=n).astype(np.float64)
            self.buf.append((window_seeds(allw, scheme, self.table), allw[:, -1].astype(np.int32),
                             (owner + self.n_docs).astype(np.int64)))
            self.held += allw.shape[0]
        self.scored.append(scored)
        self.n_docs += n
        if self.held >= self.flush_windows:
            self._flush()

    def _flush(self) -> None:
        import torch

        if self.green.size < self.n_docs:
            self.green = np.concatenate([self.green, np.zeros(self.n_docs - self.green.size)])
        if not self.buf:
            return
        seeds = np.concatenate([b[0] for b in self.buf])
        targets = np.concatenate([b[1] for b in self.buf])
        owner = np.concatenate([b[2] for b in self.buf])
        self.buf, self.held = [], 0
        order = np.argsort(seeds, kind="stable")  # one sort groups the windows by seed
        sorted_seeds = seeds[order]
        starts = np.flatnonzero(np.r_[True, sorted_seeds[1:] != sorted_seeds[:-1]])
        uniq = sorted_seeds[starts]
        bounds = np.r_[starts, seeds.size]
        is_green = np.zeros(targets.size, dtype=bool)
        rng = torch.Generator(device="cpu")
        scheme = self.scheme
        mask = np.zeros(scheme.vocab_size, dtype=bool)
        cache = self.cache
        rows = cache.rows_of(uniq)
        cached = rows >= 0
        steps = np.flatnonzero(~cached)
        for k in (self.progress(steps) if self.progress is not None else steps):
            rng.manual_seed(int(uniq[k]))
            g = torch.randperm(scheme.vocab_size, generator=rng)[: scheme.greenlist_size].numpy()
            mask[g] = True
            idx = order[bounds[k]: bounds[k + 1]]
            is_green[idx] = mask[targets[idx]]
            cache.put(uniq[k], mask)
            mask[g] = False
        cache.commit()
        if cached.any():  # every window of a cached seed, in one gather from the bit sets
            per_seed = np.diff(bounds)
            idx = order[np.repeat(cached, per_seed)]
            is_green[idx] = cache.green(np.repeat(rows[cached], per_seed[cached]), targets[idx])
        self.green += np.bincount(owner, weights=is_green.astype(np.float64), minlength=self.n_docs)

    def result(self) -> dict[str, np.ndarray]:
        """``tokens_scored``, ``green``, ``z``, ``p_value`` of every document fed (as :func:`score_token_ids`)."""
        self._flush()
        scored = np.concatenate(self.scored) if self.scored else np.zeros(0)
        z = z_score(self.green, scored, self.scheme.greenlist_ratio)
        return {"tokens_scored": scored, "green": self.green, "z": z,
                "p_value": np.where(scored > 0, p_value(z), np.nan)}


class GreenCache:
    """Green lists of a :class:`KGWScheme` kept as bit sets (``vocab_size / 8`` bytes each) for
    the first seeds drawn until ``cache_bytes`` is full, so a seed met again in a later flush, or
    on the other side of an audit, costs a lookup instead of a permutation. With ``lefthash``
    every seed is a token id, so a vocabulary of 49,152 ids needs at most 302 MB for all of them.
    The counts are equal with any size, 0 included (tested); only the time differs. The green
    lists are transformers' (Kirchenbauer et al. 2023; see the module docstring).

    Parameters
    ----------
    scheme : KGWScheme
        The scheme whose green lists are kept (a counter of another scheme refuses the cache).
    cache_bytes : int, default 2**28
        Bytes for the bit sets (>= 0); ``cache_bytes // ceil(vocab_size / 8)`` lists are kept.
        The array is allocated lazily by the OS: only filled rows are resident.
    """

    def __init__(self, scheme: KGWScheme, cache_bytes: int = 1 << 28) -> None:
        self.scheme = scheme
        width = (scheme.vocab_size + 7) // 8
        self.capacity = max(int(cache_bytes) // width, 0)
        self.bits = np.empty((self.capacity, width), dtype=np.uint8)  # pages are touched as rows fill
        self.seeds = np.zeros(0, dtype=np.uint64)  # kept seeds, sorted, and their rows in ``bits``
        self.rows = np.zeros(0, dtype=np.int64)
        self._new: list[tuple[int, int]] = []

    @property
    def size(self) -> int:
        """Green lists kept."""
        return self.rows.size + len(self._new)

    def rows_of(self, seeds: np.ndarray) -> np.ndarray:
        """Row in :attr:`bits` of each seed (uint64 array), -1 for a seed not kept."""
        if not self.seeds.size:
            return np.full(seeds.size, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.seeds, seeds), self.seeds.size - 1)
        return np.where(self.seeds[at] == seeds, self.rows[at], -1)

    def put(self, seed, mask: np.ndarray) -> None:
        """Keep the green list of ``seed`` (a boolean mask over the vocabulary) while there is room;
        visible to :meth:`rows_of` after :meth:`commit`."""
        row = self.size
        if row < self.capacity:
            self.bits[row] = np.packbits(mask)
            self._new.append((int(seed), row))

    def commit(self) -> None:
        if self._new:
            seeds = np.concatenate([self.seeds, np.array([s for s, _ in self._new], dtype=np.uint64)])
            rows = np.concatenate([self.rows, np.array([r for _, r in self._new], dtype=np.int64)])
            keep = np.argsort(seeds, kind="stable")
            self.seeds, self.rows, self._new = seeds[keep], rows[keep], []

    def green(self, rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Whether each target token id is green under the kept list at ``rows`` (boolean)."""
        t = np.asarray(targets, dtype=np.int64)
        return ((self.bits[rows, t >> 3] >> (7 - (t & 7)).astype(np.uint8)) & 1).astype(bool)


def score_token_ids(docs: Iterable[Sequence[int]], scheme: KGWScheme,
                    progress: Callable[[Iterable], Iterable] | None = None) -> dict[str, np.ndarray]:
    """Score documents given as token ids against a KGW scheme.

    Parameters
    ----------
    docs : iterable of int sequences
        Token ids of each document (no prompt; special tokens as the generator's tokenizer makes them).
    scheme : KGWScheme
    progress : callable, optional
        Wraps the iterable of distinct seeds (e.g. ``tqdm``); one step per green list drawn.

    Returns
    -------
    dict of float64 arrays of shape (n_docs,)
        ``tokens_scored`` (T), ``green`` (G), ``z`` (NaN when T = 0) and ``p_value`` (NaN when T = 0).

    Raises
    ------
    ValueError
        A token id outside ``[0, vocab_size)`` (the tokenizer does not match the scheme).
    """
    counter = GreenCounter(scheme, flush_windows=1 << 62, progress=progress, cache_bytes=0)  # one flush: no reuse
    counter.add(list(docs))
    return counter.result()
