"""Text corpora: cleaning a text column, word tokens, n-grams and per-document descriptors.

A text column holds one document per row (role ``text``: inferred when the median document has
at least 5 words, or declared). Every text check sees the same cleaned documents:

* missing values (None/NaN) are not documents;
* values that are not strings (numbers, lists, dicts) are not documents, and are counted
  (``non_string``); bytes are decoded as UTF-8 with replacement;
* empty or whitespace-only strings are not documents, and are counted (``empty_text``);
* invalid UTF-8 that a reader replaced by U+FFFD is counted (``invalid_utf8``) and kept;
* documents longer than ``max_chars`` characters are cut there for the n-gram, hash and
  embedding checks, and counted (``truncated``).

Words are Unicode ``\\w+`` runs of the NFKC-normalised, case-folded text: language-agnostic and
deterministic. Exact-duplicate keys hash that normal form.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+", re.UNICODE)
#: Default cut for one document (characters) for the n-gram, hash and embedding checks.
MAX_CHARS = 100_000


def normalise(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed to single spaces and stripped.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        The normal form compared by exact-duplicate checks.
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def words(text: str) -> list[str]:
    """Word tokens: ``\\w+`` runs of :func:`normalise` (language-agnostic; punctuation dropped)."""
    return _WORD.findall(normalise(text))


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    """Contiguous word n-grams of a token list (empty when ``len(tokens) < n``)."""
    return list(zip(*(tokens[i:] for i in range(n))))


def doc_hash(text: str) -> bytes:
    """16-byte blake2b digest of :func:`normalise` (stable across processes and platforms)."""
    return hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=16).digest()


@dataclass
class TextSide:
    """The cleaned documents of one side (real, synthetic or holdout) of one text column.

    Attributes
    ----------
    docs : list of str
        Documents, in row order, cut at ``max_chars``.
    rows : ndarray of int64, shape (len(docs),)
        0-based row position of each document in the input.
    n_rows : int
        Rows of the input.
    counts : dict
        ``missing``, ``non_string``, ``empty_text``, ``invalid_utf8``, ``truncated``: rows of each kind.
    """

    docs: list[str]
    rows: np.ndarray
    n_rows: int
    counts: dict[str, int] = field(default_factory=dict)
    _tokens: list[list[str]] | None = None
    _hashes: np.ndarray | None = None

    @property
    def tokens(self) -> list[list[str]]:
        """Word tokens of every document (computed once)."""
        if self._tokens is None:
            self._tokens = [words(d) for d in self.docs]
        return self._tokens

    @property
    def hashes(self) -> np.ndarray:
        """:func:`doc_hash` of every document as an array of 16-byte strings (``S16``)."""
        if self._hashes is None:
            self._hashes = np.array([doc_hash(d) for d in self.docs], dtype="S16")
        return self._hashes


def clean_values(values, max_chars: int, counts: dict) -> tuple[list[str], list[int]]:
    """The documents among ``values`` and their positions, by the rules of the module docstring;
    adds the rows of each kind to ``counts`` (keys as :attr:`TextSide.counts`). Shared by
    :func:`clean_texts` and the chunked corpus pass (:mod:`synthproof.corpus`)."""
    docs: list[str] = []
    rows: list[int] = []
    for i, v in enumerate(values):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            counts["missing"] += 1
            continue
        if isinstance(v, (bytes, bytearray)):
            v = bytes(v).decode("utf-8", errors="replace")
        if not isinstance(v, str):
            counts["non_string"] += 1
            continue
        if not v.strip():
            counts["empty_text"] += 1
            continue
        if "\ufffd" in v:
            counts["invalid_utf8"] += 1
        if len(v) > max_chars:
            counts["truncated"] += 1
            v = v[:max_chars]
        docs.append(v)
        rows.append(i)
    return docs, rows


def clean_texts(values, max_chars: int = MAX_CHARS) -> TextSide:
    """Clean one text column.

    Parameters
    ----------
    values : array-like of shape (n_rows,)
        The raw column (object values: str, bytes, None, NaN or anything else).
    max_chars : int, default 100_000
        Longer documents are cut at this many characters (and counted).

    Returns
    -------
    TextSide
    """
    counts = {"missing": 0, "non_string": 0, "empty_text": 0, "invalid_utf8": 0, "truncated": 0}
    docs, rows = clean_values(values, max_chars, counts)
    return TextSide(docs, np.asarray(rows, dtype=np.int64), len(values), counts)


def distinct_n(tokens: list[list[str]], n: int) -> float:
    """distinct-n: distinct word n-grams / all word n-grams over a corpus (Li et al. 2016).

    Parameters
    ----------
    tokens : list of list of str
        Tokenised documents (n-grams do not cross documents).
    n : int, >= 1

    Returns
    -------
    float in [0, 1]; higher is more diverse; NaN when the corpus has no n-gram. Depends on corpus
    size: compare at equal token counts.

    References
    ----------
    Li, J. et al. (2016) "A diversity-promoting objective function for neural conversation models", NAACL.
    """
    grams = [g for t in tokens for g in ngrams(t, n)]
    return len(set(grams)) / len(grams) if grams else float("nan")


def take_tokens(tokens: list[list[str]], order: np.ndarray, budget: int) -> list[list[str]]:
    """Documents in ``order`` until ``budget`` tokens are taken (the last one cut to fit), so two
    corpora can be compared at exactly equal token counts."""
    out, left = [], budget
    for i in order:
        if left <= 0:
            break
        t = tokens[int(i)]
        out.append(t[:left])
        left -= len(out[-1])
    return out


def compression_ratio(texts: list[str], budget: int) -> float:
    """gzip compression ratio (raw bytes / compressed bytes) of the first ``budget`` UTF-8 bytes of
    the documents joined by newlines.

    Returns
    -------
    float >= ~1; higher means more redundant (repetitive) text. Depends on size and gzip's 32 KiB
    window: compare at equal byte counts. Level 6, header time fixed at 0 (deterministic).

    References
    ----------
    Shaib, C. et al. (2024) "Standardizing the measurement of text diversity: a tool and a
    comparative analysis of scores" (compression ratio as a diversity score).
    """
    import gzip

    raw = "\n".join(texts).encode("utf-8")[:budget]
    if not raw:
        return float("nan")
    return len(raw) / len(gzip.compress(raw, compresslevel=6, mtime=0))


def repetition_rate(tokens: list[str], n: int = 3) -> float:
    """Within-document repetition: 1 - distinct n-grams / n-grams of one document (seq-rep-n of
    Welleck et al. 2020). 0 = no n-gram repeats, towards 1 = a loop; NaN when shorter than ``n``."""
    grams = ngrams(tokens, n)
    return 1.0 - len(set(grams)) / len(grams) if grams else float("nan")


DESCRIPTORS = ("n_chars", "n_words", "type_token_ratio", "non_alpha_share")


def descriptors(docs: list[str], tokens: list[list[str]]) -> pd.DataFrame:
    """Per-document properties, one row per document.

    Columns: ``n_chars`` (characters), ``n_words`` (word tokens), ``type_token_ratio`` (distinct
    words / words, in [0, 1]; NaN for a document without words), ``non_alpha_share`` (share of
    non-whitespace characters that are not letters, in [0, 1]).
    """
    n_chars = np.fromiter((len(d) for d in docs), dtype=float, count=len(docs))
    n_words = np.fromiter((len(t) for t in tokens), dtype=float, count=len(tokens))
    ttr = np.fromiter((len(set(t)) / len(t) if t else np.nan for t in tokens), dtype=float, count=len(tokens))
    non_alpha = np.fromiter((_non_alpha(d) for d in docs), dtype=float, count=len(docs))
    return pd.DataFrame({"n_chars": n_chars, "n_words": n_words, "type_token_ratio": ttr,
                         "non_alpha_share": non_alpha})


def _non_alpha(d: str) -> float:
    visible = [c for c in d if not c.isspace()]
    return sum(not c.isalpha() for c in visible) / len(visible) if visible else np.nan
