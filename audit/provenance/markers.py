"""Hidden markers in text: invisible characters, bidirectional controls, homoglyph (mixed-script)
words and configured tag patterns, counted per document and per corpus.

Invisible characters and bidi controls are how text is fingerprinted or "smuggled" (zero-width
watermarks, Unicode tag characters, Trojan-Source reordering); Latin words with Cyrillic or Greek
look-alike letters are how filters are evaded and copies disguised. The ``provenance.hidden_markers``
check judges the counts.

References: Boucher & Anderson (2023), "Trojan Source: invisible vulnerabilities", USENIX Security;
Unicode Technical Standard #39 (security mechanisms: mixed-script detection); Unicode Technical
Report #36 (security considerations, invisible characters).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

#: Invisible format characters: zero-width space/non-joiner/joiner, word joiner, invisible
#: operators, BOM, soft hyphen, Mongolian vowel separator, variation selectors, Unicode tags.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff\ufe00-\ufe0f"
                       "\U000e0000-\U000e007f\U000e0100-\U000e01ef]")
#: Bidirectional controls (embeddings, overrides, isolates, marks).
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WORD = re.compile(r"\w+", re.UNICODE)
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
KINDS = ("invisible", "bidi", "mixed_script_words", "tags")


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    return next((s for s in _SCRIPTS if name.startswith(s)), None)


def mixed_script_words(text: str) -> int:
    """Words mixing letters of two of Latin, Cyrillic and Greek (UTS #39's whole-word mixed-script
    test restricted to the scripts with look-alike letters), e.g. ``pаypal`` with a Cyrillic ``а``."""
    if text.isascii():
        return 0
    n = 0
    for w in _WORD.findall(text):
        if w.isascii():
            continue
        scripts = {s for s in map(_script, w) if s}
        n += len(scripts) > 1
    return n


def scan(text: str, patterns: list[re.Pattern] | None = None) -> dict[str, int]:
    """Hidden-marker counts of one document.

    Parameters
    ----------
    text : str
    patterns : list of compiled regular expressions, optional
        Tag patterns (matches are counted under ``tags``).

    Returns
    -------
    dict with ``invisible``, ``bidi``, ``mixed_script_words`` and ``tags`` counts (non-negative ints).
    """
    return {"invisible": len(INVISIBLE.findall(text)), "bidi": len(BIDI.findall(text)),
            "mixed_script_words": mixed_script_words(text),
            "tags": sum(len(p.findall(text)) for p in patterns or ())}


def scan_corpus(docs: list[str], patterns: list[re.Pattern] | None = None) -> np.ndarray:
    """:func:`scan` of every document as an int array of shape (n_docs, 4), columns as ``KINDS``."""
    out = np.zeros((len(docs), len(KINDS)), dtype=np.int64)
    for i, d in enumerate(docs):
        c = scan(d, patterns)
        out[i] = [c[k] for k in KINDS]
    return out
