"""Scoring a corpus for a text watermark: the tokenizer, the scheme of a ``watermark:`` config
section, and per-document scores (see :mod:`.kgw` and :mod:`.synthid` for the statistics). Used by
the ``provenance.kgw_watermark`` and ``provenance.synthid_watermark`` checks and
``synthproof provenance watermark``.
"""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np

from synthproof.errors import ConfigError

from .kgw import DEFAULT_HASHING_KEY, GreenCache, GreenCounter, KGWScheme


def bundled_tokenizer() -> pathlib.Path:
    """The bundled SmolLM2-135M-Instruct tokenizer folder (the generator of the bundled corpora)."""
    import importlib.resources

    return pathlib.Path(str(importlib.resources.files("synthproof.datasets") / "data" / "smollm2_tokenizer"))


def load_tokenizer(spec: str | None):
    """A ``tokenizers.Tokenizer`` and the vocabulary size from ``config.json`` beside it (or None).

    ``spec``: a ``tokenizer.json`` file or a folder holding one (a saved tokenizer or a local model);
    None: :func:`bundled_tokenizer`. Never touches the network.
    """
    from tokenizers import Tokenizer

    path = pathlib.Path(spec) if spec else bundled_tokenizer()
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(f"no tokenizer.json at {path}", path="watermark.tokenizer")
    tok = Tokenizer.from_file(str(file))
    vocab = None
    conf = file.parent / "config.json"
    if conf.is_file():
        try:
            vocab = int(json.loads(conf.read_text(encoding="utf-8")).get("vocab_size"))
        except (ValueError, TypeError, json.JSONDecodeError):
            vocab = None
    return tok, vocab


def _env_ints(name: str, what: str, path: str) -> list[int]:
    """The integers (comma- or space-separated) of environment variable ``name``; a ConfigError naming
    ``what`` when it is unset or holds anything else (its value is never echoed)."""
    raw = os.environ.get(name)
    if raw is None:
        raise ConfigError(f"environment variable {name} ({what}) is not set", path=path)
    try:
        return [int(k) for k in raw.replace(",", " ").split()]
    except ValueError:
        raise ConfigError(f"environment variable {name} ({what}) must hold integers, comma-separated",
                          path=path) from None


def scheme_from_config(cfg, tokenizer_vocab: int | None, tok) -> KGWScheme:
    """The :class:`KGWScheme` of a ``watermark:`` config section (key from ``key_env`` if set)."""
    key = cfg.hashing_key
    if key is None and cfg.key_env:
        ints = _env_ints(cfg.key_env, "the watermark key", "watermark.key_env")
        if len(ints) != 1:
            raise ConfigError(f"environment variable {cfg.key_env} must hold one integer watermark key",
                              path="watermark.key_env")
        key = ints[0]
    vocab = cfg.vocab_size or tokenizer_vocab or tok.get_vocab_size(with_added_tokens=True)
    return KGWScheme(vocab_size=int(vocab), greenlist_ratio=cfg.greenlist_ratio,
                     hashing_key=DEFAULT_HASHING_KEY if key is None else int(key),
                     seeding_scheme=cfg.seeding_scheme, context_width=cfg.context_width,
                     ignore_repeated_ngrams=cfg.ignore_repeated_ngrams, bos_token_id=cfg.bos_token_id)


def synthid_scheme_from_config(cfg, tokenizer_vocab: int | None, tok):
    """The :class:`~.synthid.SynthIDScheme` of a ``watermark:`` section (keys from ``keys_env`` if set:
    comma- or space-separated integers)."""
    from .synthid import SynthIDScheme

    keys = cfg.keys
    if keys is None and cfg.keys_env:
        keys = _env_ints(cfg.keys_env, "the SynthID keys", "watermark.keys_env")
    if not keys:
        raise ConfigError("watermark.scheme synthid needs the generator's keys: set watermark.keys_env "
                          "(or watermark.keys)", path="watermark.keys")
    vocab = cfg.vocab_size or tokenizer_vocab or tok.get_vocab_size(with_added_tokens=True)
    return SynthIDScheme(keys=tuple(int(k) for k in keys), ngram_len=cfg.ngram_len,
                         sampling_table_size=cfg.sampling_table_size, sampling_table_seed=cfg.sampling_table_seed,
                         context_history_size=cfg.context_history_size, score=cfg.score, vocab_size=int(vocab))


class SynthIDTextScorer:
    """SynthID-Text scores (:func:`.synthid.scores`) of documents fed in batches; every document is
    scored on its own, so any batching gives the same result. ``result()`` has the keys of
    :class:`TextScorer` with ``score`` (the mean or weighted-mean g-value) in place of ``green``."""

    def __init__(self, scheme, tok, min_tokens: int = 1, batch: int = 1024) -> None:
        self.scheme, self.tok, self.min_tokens, self.batch = scheme, tok, min_tokens, batch
        self.parts: list[dict] = []

    def add(self, texts: list[str]) -> None:
        from .synthid import scores

        for i in range(0, len(texts), self.batch):
            enc = self.tok.encode_batch(texts[i: i + self.batch], add_special_tokens=False)
            ids = [np.asarray(e.ids, dtype=np.int64) for e in enc]
            s = scores(ids, self.scheme)
            short = s["tokens_scored"] < self.min_tokens
            for k in ("score", "z", "p_value"):
                s[k][short] = np.nan
            s["tokens"] = np.array([x.size for x in ids], dtype=np.int64)
            self.parts.append(s)

    def result(self) -> dict:
        keys = ("tokens_scored", "score", "z", "p_value", "tokens")
        if not self.parts:
            return {k: np.zeros(0, dtype=np.int64 if k == "tokens" else np.float64) for k in keys}
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}


class TextScorer:
    """:func:`score_texts` of documents fed in batches, in order (green lists drawn once per
    :class:`~synthproof.provenance.kgw.GreenCounter` flush, so streaming a corpus costs what one
    call on all of it would; results equal, tested). ``flush_windows``, ``progress``,
    ``cache_bytes`` and ``cache`` (a :class:`~synthproof.provenance.kgw.GreenCache`) are those of
    the counter."""

    def __init__(self, scheme: KGWScheme, tok, min_tokens: int = 1, batch: int = 1024,
                 flush_windows: int = 1 << 20, progress=None, cache_bytes: int = 1 << 28,
                 cache: GreenCache | None = None) -> None:
        self.scheme, self.tok, self.min_tokens, self.batch = scheme, tok, min_tokens, batch
        self.counter = GreenCounter(scheme, flush_windows=flush_windows, progress=progress, cache_bytes=cache_bytes,
                                    cache=cache)
        self.kept: list[np.ndarray] = []
        self.scorable: list[np.ndarray] = []
        self.tokens: list[np.ndarray] = []
        self.n = 0

    def add(self, texts: list[str]) -> None:
        ids: list[np.ndarray] = []  # int32 arrays: a Python list of ints costs ~4x the memory
        for i in range(0, len(texts), self.batch):
            ids.extend(np.asarray(e.ids, dtype=np.int32) for e in self.tok.encode_batch(texts[i: i + self.batch],
                                                                                         add_special_tokens=False))
        scorable = np.array([max(x.size - self.scheme.ngram + 1, 0) for x in ids], dtype=np.float64)
        keep = np.flatnonzero(scorable >= self.min_tokens)
        self.counter.add([ids[i] for i in keep])
        self.kept.append(keep + self.n)
        self.scorable.append(scorable)
        self.tokens.append(np.array([x.size for x in ids], dtype=np.int64))
        self.n += len(ids)

    def result(self) -> dict:
        part = self.counter.result()
        n = self.n
        cat = np.concatenate
        out = {"tokens_scored": cat(self.scorable) if self.scorable else np.zeros(0), "green": np.full(n, np.nan),
               "z": np.full(n, np.nan), "p_value": np.full(n, np.nan),
               "tokens": cat(self.tokens) if self.tokens else np.zeros(0, dtype=np.int64)}
        kept = cat(self.kept) if self.kept else np.zeros(0, dtype=np.int64)
        for k in ("tokens_scored", "green", "z", "p_value"):
            out[k][kept] = part[k]
        return out


def score_texts(texts: list[str], scheme: KGWScheme, tok, batch: int = 1024, progress: bool = False,
                min_tokens: int = 1) -> dict:
    """Tokenise ``texts`` (no special tokens, in batches) and score them (see :func:`.kgw.score_token_ids`).

    Documents with fewer than ``min_tokens`` tokens are not scored (their green count, z and p are NaN;
    ``tokens_scored`` still counts their scorable tokens), which saves drawing their green lists. The
    result also holds ``tokens``, each document's length in tokens.
    """
    wrap = None
    if progress:
        from tqdm.auto import tqdm

        def wrap(it):
            return tqdm(it, desc="watermark green lists", unit="list", leave=False)
    scorer = TextScorer(scheme, tok, min_tokens, batch, flush_windows=1 << 62, progress=wrap, cache_bytes=0)
    scorer.add(texts)
    return scorer.result()
