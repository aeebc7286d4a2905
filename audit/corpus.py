"""Whole-corpus statistics of a text column, built chunk by chunk (artefact ``corpus``).

A corpus of 10^6–10^10 documents does not fit in memory as Python strings and token lists
(~90 bytes per word); what the whole-corpus text checks read does: per document a row id, a
16-byte hash of the normal form (:func:`synthproof.text.doc_hash`) and four descriptors
(:data:`synthproof.text.DESCRIPTORS`) — 56 bytes a document — plus the states of **taps**:
per-chunk computations that checks register (MinHash signatures, verbatim-span keys, seq-rep
values, contamination hits). Every chunk is cleaned and tokenised once (word codes are content
hashes, :func:`synthproof.stats.tokens.word_codes`) and handed to every tap, so a tap's state
depends only on the documents and their order, never on the chunking, the shard layout or
whether the corpus streamed (tested). In memory the same builder runs over the frame's column.

Documents are the rows :func:`synthproof.text.clean_texts` keeps (its counts are the corpus's
``counts``); the statistics are those of :func:`synthproof.text.descriptors` (equal on the same
documents; tested).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .stats.tokens import TokenCodes, distinct_per_owner, word_codes
from .text import MAX_CHARS, _SPACE, _WORD, clean_values

#: Documents per tokenised chunk (bounds the Python token lists alive at once).
CHUNK_DOCS = 2048
#: Documents per side in the text sample (:meth:`synthproof.context.AuditContext.text_sample`).
SAMPLE_DOCS = 20_000


class Resources:
    """What a tap may use: the memory budget (bytes), a private spill folder (created on first
    use with :func:`tempfile.mkdtemp`, mode 0700, removed by :meth:`close`) and ``shared``, a dict
    for state that taps of several corpora may share because it does not change any result
    (caches such as the KGW green lists; see :meth:`shared_state`)."""

    def __init__(self, memory: int) -> None:
        self.memory = int(memory)
        self._dir: str | None = None
        self.shared: dict = {}

    def shared_state(self, key, factory):
        """``shared[key]``, made by ``factory()`` on first use."""
        if key not in self.shared:
            self.shared[key] = factory()
        return self.shared[key]

    def spill_dir(self) -> str:
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="synthproof-spill-")
        return self._dir

    def close(self) -> None:
        self.shared.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


class Tap:
    """A per-chunk computation over a corpus (subclass it in a check family).

    A tap is built as ``Tap(resources, **params)``; :meth:`key_of` of the params names its state
    (equal keys share one). :meth:`add` gets every chunk in document order — ``codes``
    (:class:`~synthproof.stats.tokens.TokenCodes` of the chunk's documents), ``doc0`` (index of the
    chunk's first document in the corpus) and ``docs`` (their cleaned text) — and :meth:`finish`
    returns the state checks read. A state must depend only on the documents and their order.
    """

    #: At least the number of documents to come, when the builder knows it (its rows): a tap may
    #: preallocate its state instead of concatenating parts (no transient second copy).
    capacity: int | None = None
    #: Whether an executor leaves the state on its workers instead of gathering it: then the
    #: class has ``split_state(output) -> list of bytes`` (:attr:`state_parts` of them: the key
    #: partitions, or one for a state kept whole) and ``shuffled(handles, engine, stub)``, the
    #: state of one shard whose parts lie where ``engine``
    #: (:class:`synthproof.plan.distributed.Shuffle`) runs tasks, which :meth:`merge` joins;
    #: ``stub`` is what :meth:`keyed_stub` kept in the scan state.
    partitioned = False
    #: Parts of ``split_state`` (the keyed shuffle's 64 partitions by default).
    state_parts = 64

    @classmethod
    def keyed_stub(cls, output):
        """What a scan state keeps of a partitioned output in its place (default: nothing)."""
        return None

    def __init__(self, res: Resources, **params) -> None:
        self.res = res
        self.key = self.key_of(**params)
        self.start(**params)

    @classmethod
    def key_of(cls, **params) -> str:
        return cls.__name__ + "".join(f":{k}={params[k]!r}" for k in sorted(params))

    def start(self, **params) -> None:
        """Set up from the params (default: none)."""

    def add(self, codes: TokenCodes, doc0: int, docs: list[str]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def to_state(cls, output):
        """``output`` of :meth:`finish` in a form :mod:`synthproof.plan.codec` stores (default: as is)."""
        return output

    @classmethod
    def merge(cls, outputs: list, doc_offsets: list[int]):
        """The output of one tap over consecutive corpora (shards in order) from each one's output;
        ``doc_offsets[i]``: the documents before part ``i``. Default: per-document arrays, joined."""
        return np.concatenate(outputs) if outputs else outputs


@dataclass
class CorpusStats:
    """Per-document statistics of one side of one text column.

    Attributes
    ----------
    n_rows : int
        Rows of the input (documents or not).
    counts : dict
        ``missing``, ``non_string``, ``empty_text``, ``invalid_utf8``, ``truncated``: rows of each
        kind (:func:`synthproof.text.clean_texts`).
    rows : ndarray of int64, shape (n_docs,)
        Row id (0-based position in the input) of each document, increasing.
    hashes : ndarray of S16, shape (n_docs,)
        :func:`synthproof.text.doc_hash` of each document.
    n_chars, n_words, type_token_ratio, non_alpha_share : ndarray of float64, shape (n_docs,)
        :func:`synthproof.text.descriptors`.
    taps : dict
        Tap key -> its finished state.
    """

    n_rows: int
    counts: dict
    rows: np.ndarray
    hashes: np.ndarray
    n_chars: np.ndarray
    n_words: np.ndarray
    type_token_ratio: np.ndarray
    non_alpha_share: np.ndarray
    taps: dict = field(default_factory=dict)

    @property
    def n_docs(self) -> int:
        return int(self.rows.size)

    def descriptors(self) -> pd.DataFrame:
        """The four descriptors as :func:`synthproof.text.descriptors` returns them."""
        return pd.DataFrame({"n_chars": self.n_chars, "n_words": self.n_words,
                             "type_token_ratio": self.type_token_ratio, "non_alpha_share": self.non_alpha_share})


_NOT_ALPHA_ASCII = bytes(c for c in range(128) if not chr(c).isalpha() and not chr(c).isspace())
_SPACE_ASCII = bytes(c for c in range(128) if chr(c).isspace())


def non_alpha_share(doc: str) -> float:
    """Share of the non-whitespace characters of ``doc`` that are not letters (``str.isalpha``);
    NaN without any. ASCII documents are counted with ``bytes.translate`` (C speed)."""
    if doc.isascii():
        raw = doc.encode("ascii")
        visible = len(raw.translate(None, _SPACE_ASCII))
        letters = len(raw.translate(None, _NOT_ALPHA_ASCII + _SPACE_ASCII))
        return (visible - letters) / visible if visible else float("nan")
    visible = [c for c in doc if not c.isspace()]
    return sum(not c.isalpha() for c in visible) / len(visible) if visible else float("nan")


def tokenise(docs: list[str]) -> tuple[TokenCodes, np.ndarray]:
    """Word codes of documents (:func:`synthproof.text.words` of each, coded by content) and their
    :func:`synthproof.text.doc_hash` digests, normalising each document once.

    Returns
    -------
    codes : TokenCodes
    hashes : ndarray of S16, shape (len(docs),)
    """
    flat: list[str] = []
    lens = np.empty(len(docs), dtype=np.int64)
    digests = []
    for i, d in enumerate(docs):
        nf = _SPACE.sub(" ", unicodedata.normalize("NFKC", d).casefold()).strip()
        digests.append(hashlib.blake2b(nf.encode("utf-8", "surrogatepass"), digest_size=16).digest())
        w = _WORD.findall(nf)
        lens[i] = len(w)
        flat.extend(w)
    starts = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lens, out=starts[1:])
    return TokenCodes(word_codes(flat), starts), np.array(digests, dtype="S16")


class CorpusBuilder:
    """Builds :class:`CorpusStats` from chunks of a column's raw values, in row order.

    Parameters
    ----------
    taps : list of Tap
    max_chars : int, default :data:`synthproof.text.MAX_CHARS`
    capacity : int, optional
        The rows to come (an upper bound of the documents), handed to the taps.
    """

    def __init__(self, taps: list[Tap] | None = None, max_chars: int = MAX_CHARS, capacity: int | None = None,
                 start: int = 0) -> None:
        self.taps = list(taps or [])
        for t in self.taps:
            t.capacity = capacity
        self.max_chars = max_chars
        self.counts = {"missing": 0, "non_string": 0, "empty_text": 0, "invalid_utf8": 0, "truncated": 0}
        self.start = self.n_rows = int(start)  # a shard's corpus starts at its first row id
        self._parts: dict[str, list[np.ndarray]] = {k: [] for k in ("rows", "hashes", "n_chars", "n_words", "ttr",
                                                                     "non_alpha")}
        self._docs = 0
        self._pending: tuple[list[str], list[int]] = ([], [])

    def feed(self, values, row0: int) -> None:
        """Add the raw values of rows ``row0 .. row0 + len(values) - 1`` (object array or list)."""
        if row0 != self.n_rows:
            raise ValueError(f"rows must come in order: expected row {self.n_rows}, got {row0}")
        docs, pos = clean_values(values, self.max_chars, self.counts)
        self.n_rows += len(values)
        pd_, pr = self._pending
        pd_.extend(docs)
        pr.extend(row0 + p for p in pos)
        while len(pd_) >= CHUNK_DOCS:
            self._chunk(pd_[:CHUNK_DOCS], pr[:CHUNK_DOCS])
            del pd_[:CHUNK_DOCS], pr[:CHUNK_DOCS]

    def _chunk(self, docs: list[str], rows: list[int]) -> None:
        codes, hashes = tokenise(docs)
        lens = codes.lengths
        n = len(docs)
        doc = np.repeat(np.arange(n), lens)
        distinct = distinct_per_owner(codes.codes, doc, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            ttr = np.where(lens > 0, distinct / np.maximum(lens, 1), np.nan)
        p = self._parts
        p["rows"].append(np.asarray(rows, dtype=np.int64))
        p["hashes"].append(hashes)
        p["n_chars"].append(np.fromiter((len(d) for d in docs), dtype=np.float64, count=n))
        p["n_words"].append(lens.astype(np.float64))
        p["ttr"].append(ttr)
        p["non_alpha"].append(np.fromiter((non_alpha_share(d) for d in docs), dtype=np.float64, count=n))
        for tap in self.taps:
            tap.add(codes, self._docs, docs)
        self._docs += n

    def finish(self) -> CorpusStats:
        """The statistics of every row fed (the last partial chunk included)."""
        pd_, pr = self._pending
        if pd_:
            self._chunk(pd_, pr)
            self._pending = ([], [])
        p = self._parts

        def cat(name, dtype):
            return np.concatenate(p[name]) if p[name] else np.zeros(0, dtype=dtype)

        return CorpusStats(self.n_rows - self.start, dict(self.counts), cat("rows", np.int64), cat("hashes", "S16"),
                           cat("n_chars", np.float64), cat("n_words", np.float64), cat("ttr", np.float64),
                           cat("non_alpha", np.float64), {t.key: t.finish() for t in self.taps})


def merge_corpora(parts: list[CorpusStats | None], taps: dict) -> CorpusStats | None:
    """One corpus from the corpora of consecutive row spans (shards, in order): counts summed,
    per-document arrays joined, each tap's output merged by its class (``taps``: key -> Tap
    subclass) with the documents before each part as offsets."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    cat = np.concatenate
    counts = {k: sum(p.counts[k] for p in parts) for k in parts[0].counts}
    offsets = np.concatenate([[0], np.cumsum([p.n_docs for p in parts])[:-1]]).astype(np.int64).tolist()
    merged_taps = {key: taps[key].merge([p.taps[key] for p in parts], offsets) for key in parts[0].taps}
    return CorpusStats(sum(p.n_rows for p in parts), counts, cat([p.rows for p in parts]),
                       cat([p.hashes for p in parts]), cat([p.n_chars for p in parts]), cat([p.n_words for p in parts]),
                       cat([p.type_token_ratio for p in parts]), cat([p.non_alpha_share for p in parts]), merged_taps)


def sample_docs(values, ids: np.ndarray, seed: int, side: str, max_chars: int = MAX_CHARS,
                k: int = SAMPLE_DOCS) -> tuple[list[str], np.ndarray]:
    """The text sample of a side: of the documents among ``values`` (a column at the row pool's
    rows, ``ids`` their row ids, increasing), the ``k`` with the smallest pool priorities
    (:mod:`synthproof.sampling`, ``(seed, side, "pool")``), in row order.

    Returns
    -------
    docs : list of str
        Cleaned as :func:`synthproof.text.clean_texts`.
    positions : ndarray of int64
        Their positions in ``values``.
    """
    from .sampling import priorities, sample_key, smallest_k
    from .text import clean_texts

    ts = clean_texts(values, max_chars)
    at = np.asarray(ts.rows, dtype=np.int64)
    docs = ts.docs
    if len(docs) > k:
        keep = np.sort(smallest_k(priorities(np.asarray(ids, dtype=np.int64)[at], sample_key(seed, side, "pool")), k))
        docs, at = [docs[i] for i in keep], at[keep]
    return docs, at


def frame_values(values, chunk_rows: int = 65_536):
    """``(row0, values)`` chunks of an in-memory column, for :meth:`CorpusBuilder.feed`."""
    n = len(values)
    for lo in range(0, n, chunk_rows):
        yield lo, values[lo:lo + chunk_rows]


def build_corpus(chunks, taps: list[Tap] | None = None, max_chars: int = MAX_CHARS,
                 capacity: int | None = None) -> CorpusStats:
    """:class:`CorpusStats` of ``(row0, values)`` chunks in row order (see :class:`CorpusBuilder`)."""
    b = CorpusBuilder(taps, max_chars, capacity)
    for row0, values in chunks:
        b.feed(values, row0)
    return b.finish()
