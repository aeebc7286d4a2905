"""Corpus taps of the text duplication checks (:class:`synthproof.corpus.Tap`): MinHash signatures
(on disk past a sixteenth of the budget) and verbatim-span keys of every document, computed chunk
by chunk.

Span keys of a web-scale corpus outgrow memory (16 bytes per word: ~5 GB for 10^6 documents of
300 words), so :class:`SpanTap` spills them, past a thirty-second of the memory budget, to
:data:`PARTITIONS` files per corpus partitioned by the key's top bits; :func:`span_pairs` joins
two corpora partition by partition (a key lives in one partition, so every match and every
fan-out count is the one of the whole corpus: the pairs equal the in-memory join's; tested).
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from synthproof.corpus import Tap
from synthproof.memory import track_mapping
from synthproof.stats.rowhashes import PARTITION_SHIFT as _SHIFT
from synthproof.stats.rowhashes import PARTITIONS, partition_bytes, records

from . import _minhash
from ._text_pairs import doc_ngram_keys, shared_ngram_pairs, unique_pairs

#: Spill partitions of a corpus's span keys (the top 6 bits of the 64-bit key).
_ids = itertools.count()


class MinHashTap(Tap):
    """MinHash signatures (:func:`_minhash.signatures`, datasketch ``affine32``, seed 1) of every
    document's word ``ngram`` shingles: ``ndarray of uint32, shape (n_docs, num_perm)``; under an
    executor, each shard's matrix stays on its worker as one object
    (:class:`._lsh_shuffle.ShuffledSignatures`).

    When the announced documents' signatures would pass a sixteenth of the memory budget (at 4 GiB
    and 128 permutations: 524,288 documents), they are written chunk by chunk to a file in the
    spill folder and come back as a read-only ``numpy.memmap`` of the same shape and values, so the
    pass does not hold them (512 MB a million documents a side); the checks' pages are read back
    from the page cache as they touch them."""

    partitioned = True
    state_parts = 1

    @classmethod
    def split_state(cls, output: np.ndarray) -> list[bytes]:
        return [np.ascontiguousarray(output, dtype=np.uint32).tobytes()]

    @classmethod
    def keyed_stub(cls, output: np.ndarray) -> dict:
        return {"docs": int(output.shape[0]), "num_perm": int(output.shape[1])}

    @classmethod
    def shuffled(cls, handles: list, engine, stub: dict):
        from ._lsh_shuffle import ShuffledSignatures

        return ShuffledSignatures(handles, [0], [stub["docs"]], stub["num_perm"], engine)

    @classmethod
    def merge(cls, outputs: list, doc_offsets: list[int]):
        from ._lsh_shuffle import ShuffledSignatures

        if outputs and all(isinstance(o, ShuffledSignatures) for o in outputs):
            return ShuffledSignatures([h for o in outputs for h in o.blocks],
                                      [off + int(x) for o, off in zip(outputs, doc_offsets) for x in o.offsets],
                                      [int(c) for o in outputs for c in o.counts], outputs[0].num_perm,
                                      outputs[0].engine)
        return super().merge(outputs, doc_offsets)

    def start(self, ngram: int, num_perm: int) -> None:
        self.ngram, self.num_perm = ngram, num_perm
        self.parts: list[np.ndarray] = []
        self.buf: np.ndarray | None = None
        self.n = 0
        self.path: str | None = None
        self.fh = None

    def add(self, codes, doc0, docs) -> None:
        h, starts = _minhash.shingle_hashes(codes, self.ngram)
        sig = _minhash.signatures(h, starts, num_perm=self.num_perm, seed=1)
        if self.capacity is not None and self.buf is None and self.fh is None and not self.parts \
                and self.capacity * self.num_perm * 4 > self.res.memory // 16:
            self.path = os.path.join(self.res.spill_dir(), f"minhash-{os.getpid()}-{next(_ids)}.u32")
            self.fh = open(self.path, "xb")
        if self.fh is not None:
            sig.tofile(self.fh)
            self.n += len(sig)
            return
        if self.capacity is not None and self.buf is None:
            self.buf = np.empty((self.capacity, self.num_perm), dtype=np.uint32)
        if self.buf is not None and self.n + len(sig) <= len(self.buf):
            self.buf[self.n:self.n + len(sig)] = sig
        else:
            if self.buf is not None:  # more documents than announced: fall back to parts
                self.parts.append(self.buf[:self.n])
                self.buf = None
            self.parts.append(sig)
        self.n += len(sig)

    def finish(self) -> np.ndarray:
        if self.fh is not None:
            self.fh.close()
            self.fh = None
            if self.n:
                out = np.memmap(self.path, dtype=np.uint32, mode="r", shape=(self.n, self.num_perm))
                track_mapping(out)
                return out
            return np.zeros((0, self.num_perm), dtype=np.uint32)
        if self.buf is not None and not self.parts:
            out = self.buf[:self.n]
        else:
            out = np.concatenate(self.parts) if self.parts else np.zeros((0, self.num_perm), dtype=np.uint32)
        self.parts, self.buf = [], None
        return out


class SpanKeys:
    """Distinct ``(key, document)`` rows of a corpus's word n-grams, in memory or in partition files."""

    def __init__(self, keys: np.ndarray | None = None, docs: np.ndarray | None = None,
                 paths: list[tuple[str, str]] | None = None) -> None:
        self.keys, self.docs, self.paths = keys, docs, paths

    @property
    def spilled(self) -> bool:
        return self.paths is not None

    def in_memory(self) -> SpanKeys:
        """The same rows in memory (the partitions read back in order)."""
        if self.paths is None:
            return self
        parts = [self.partition(p) for p in range(PARTITIONS)]
        return SpanKeys(np.concatenate([k for k, _ in parts]), np.concatenate([d for _, d in parts]))

    def partition(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows of partition ``p`` (keys whose top 6 bits are ``p``)."""
        if self.paths is not None:
            kp, dp = self.paths[p]
            return np.fromfile(kp, dtype=np.uint64), np.fromfile(dp, dtype=np.int64)
        mask = (self.keys >> _SHIFT) == np.uint64(p)
        return self.keys[mask], self.docs[mask]


class ShuffledSpanKeys:
    """:class:`SpanKeys` after an executor's keyed shuffle: for each of the :data:`PARTITIONS`
    partitions the handles on every part's records (``(key, document)``,
    :func:`synthproof.stats.rowhashes.partition_bytes`, part after part), each part's first
    document in the corpus, and the ``reduce`` that runs a function where the handles live
    (:class:`synthproof.stats.rowhashes.ShuffledHashes`)."""

    spilled = True

    def __init__(self, parts: list, offsets: list[int], reduce) -> None:
        self.parts, self.offsets, self.reduce = parts, [int(o) for o in offsets], reduce


def _shared_in_partition(arg, query: list[bytes], ref: list[bytes]) -> np.ndarray:
    same, max_fanout, q_offsets, r_offsets = arg
    return shared_ngram_pairs(records(query, q_offsets), records(ref, r_offsets), same=same, max_fanout=max_fanout)


class SpanTap(Tap):
    """:class:`SpanKeys` of every document's word ``n``-grams (``doc_ngram_keys`` per chunk, the
    documents renumbered in corpus order), spilled past a thirty-second of the memory budget;
    shuffled by key under an executor (:class:`ShuffledSpanKeys`)."""

    partitioned = True

    @classmethod
    def to_state(cls, output: SpanKeys) -> SpanKeys:
        return output.in_memory()

    @classmethod
    def split_state(cls, output: SpanKeys) -> list[bytes]:
        """The records' bytes of each partition of ``output``, in partition order."""
        mem = output.in_memory()
        return partition_bytes(0, mem.keys, mem.docs)

    @classmethod
    def shuffled(cls, handles: list, engine, stub=None) -> ShuffledSpanKeys:
        """The state of one part whose partition ``p`` is ``handles[p]``."""
        return ShuffledSpanKeys([[h] for h in handles], [0], engine.reduce)

    @classmethod
    def merge(cls, outputs: list, doc_offsets: list[int]) -> SpanKeys | ShuffledSpanKeys:
        if outputs and all(isinstance(o, ShuffledSpanKeys) for o in outputs):
            return ShuffledSpanKeys([[h for o in outputs for h in o.parts[p]] for p in range(PARTITIONS)],
                                    [off + x for o, off in zip(outputs, doc_offsets) for x in o.offsets],
                                    outputs[0].reduce)
        parts = [o.in_memory() for o in outputs]
        return SpanKeys(np.concatenate([p.keys for p in parts]),
                        np.concatenate([p.docs + off for p, off in zip(parts, doc_offsets)]))

    def start(self, n: int) -> None:
        self.n = n
        self.keys: list[np.ndarray] = []
        self.docs: list[np.ndarray] = []
        self.held = 0
        self.paths: list[tuple[str, str]] | None = None

    def add(self, codes, doc0, docs) -> None:
        k, d = doc_ngram_keys(codes, self.n)
        d = d + doc0
        if self.paths is not None:
            self._write(k, d)
            return
        self.keys.append(k)
        self.docs.append(d)
        self.held += 16 * k.size
        if self.held > self.res.memory // 32:
            folder = self.res.spill_dir()
            tag = f"spans-{os.getpid()}-{next(_ids)}"
            self.paths = [(os.path.join(folder, f"{tag}-{p}.keys"), os.path.join(folder, f"{tag}-{p}.docs"))
                          for p in range(PARTITIONS)]
            for kp, dp in self.paths:  # created empty, so a partition without keys reads back empty
                open(kp, "xb").close()
                open(dp, "xb").close()
            for k, d in zip(self.keys, self.docs):
                self._write(k, d)
            self.keys, self.docs, self.held = [], [], 0

    def _write(self, k: np.ndarray, d: np.ndarray) -> None:
        part = (k >> _SHIFT).astype(np.int64)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(PARTITIONS + 1))
        k, d = k[order], d[order]
        for p in range(PARTITIONS):
            lo, hi = bounds[p], bounds[p + 1]
            if hi > lo:
                kp, dp = self.paths[p]
                with open(kp, "ab") as fk, open(dp, "ab") as fd:
                    k[lo:hi].tofile(fk)
                    d[lo:hi].tofile(fd)

    def finish(self) -> SpanKeys:
        if self.paths is not None:
            return SpanKeys(paths=self.paths)
        keys = np.concatenate(self.keys) if self.keys else np.zeros(0, dtype=np.uint64)
        docs = np.concatenate(self.docs) if self.docs else np.zeros(0, dtype=np.int64)
        self.keys, self.docs = [], []
        return SpanKeys(keys, docs)


def span_pairs(query: SpanKeys, ref: SpanKeys, same: bool = False, max_fanout: int = 1000) -> np.ndarray:
    """:func:`shared_ngram_pairs` of two :class:`SpanKeys` — ``(query doc, ref doc)`` pairs sharing
    an n-gram — over the whole corpora, partition by partition when either spilled, as one task per
    partition where the partitions lie when both are shuffled (:class:`ShuffledSpanKeys`).

    Raises
    ------
    ValueError
        If one side is shuffled and the other is not.
    """
    shuffled = isinstance(query, ShuffledSpanKeys), isinstance(ref, ShuffledSpanKeys)
    if any(shuffled):
        if not all(shuffled):
            raise ValueError("both corpora must be shuffled (their partitions pair up)")
        arg = (same, max_fanout, query.offsets, ref.offsets)
        parts = query.reduce(_shared_in_partition, arg, [[query.parts[p], ref.parts[p]] for p in range(PARTITIONS)])
        return unique_pairs(np.concatenate(parts))
    if not query.spilled and not ref.spilled:
        return shared_ngram_pairs((query.keys, query.docs), (ref.keys, ref.docs), same=same, max_fanout=max_fanout)
    parts = [shared_ngram_pairs(query.partition(p), ref.partition(p), same=same, max_fanout=max_fanout)
             for p in range(PARTITIONS)]
    return unique_pairs(np.concatenate(parts)) if parts else np.zeros((0, 2), dtype=np.int64)
