"""Personal data in text: detection and the normalised values that decide whether synthetic data
replays a real record's personal data.

:func:`find_pii` returns ``(kind, normalised value, start, end)`` for every match in a string:

* ``email`` — ``local@domain.tld`` (RFC 5322's common subset), normalised to lower case;
* ``phone`` — what Google's libphonenumber (the ``phonenumbers`` package) matches as a *valid*
  number, with ``region`` the default country of numbers written without ``+``; normalised to E.164;
* ``payment_card`` — 13 to 19 digits (spaces or dashes between groups allowed) passing the Luhn
  checksum (ISO/IEC 7812-1) with a known issuer prefix (2-6); normalised to the digits;
* ``iban`` — a country code, two check digits and 11-30 letters or digits passing the ISO 13616
  mod-97 check; normalised to upper case without spaces;
* ``ip_address`` — an IPv4 or IPv6 address that Python's ``ipaddress`` parses (IPv4 private and
  loopback ranges included); normalised to its compressed form;
* ``us_ssn`` — ``AAA-GG-SSSS`` with the Social Security Administration's validity rules (area not
  000, 666 or 9xx; group not 00; serial not 0000); normalised to the digits.

Detection is offline and deterministic. Person names and postal addresses need a trained
recogniser (NER) whose weights no installed package ships, so they are not detected here.
"""

from __future__ import annotations

import ipaddress
import re

import numpy as np
import phonenumbers

KINDS = ("email", "phone", "payment_card", "iban", "ip_address", "us_ssn")

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![\w-])")
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
#: What every kind needs somewhere (an ``@``, four digits, an IPv6 ``::``): strings without it are
#: skipped before the detectors run (libphonenumber's matcher is the slow one).
_CANDIDATE = re.compile(r"@|::|(?:\d\D{0,3}){4}")
_SSN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) checksum of a digit string (ISO/IEC 7812-1)."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 13616 check: the code moved to the end, letters as 10-35, the number mod 97 is 1."""
    s = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _ssn_valid(area: str, group: str, serial: str) -> bool:
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def find_pii(text: str, region: str = "US") -> list[tuple[str, str, int, int]]:
    """Personal data found in ``text`` (see the module docstring), ordered by position.

    Parameters
    ----------
    text : str
    region : str
        ISO 3166-1 alpha-2 country of phone numbers written without an international prefix.

    Returns
    -------
    list of (kind, normalised value, start, end)
        ``kind`` in :data:`KINDS`; spans do not overlap (an earlier, longer match wins).
    """
    if not isinstance(text, str) or not text or not _CANDIDATE.search(text):
        return []
    found: list[tuple[str, str, int, int]] = []
    for m in _EMAIL.finditer(text):
        found.append(("email", m.group(0).lower(), m.start(), m.end()))
    for m in _IBAN.finditer(text):
        if iban_valid(m.group(0)):
            found.append(("iban", m.group(0).replace(" ", "").upper(), m.start(), m.end()))
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group(0))
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits):
            found.append(("payment_card", digits, m.start(), m.end()))
    for m in _SSN.finditer(text):
        if _ssn_valid(*m.groups()):
            found.append(("us_ssn", "".join(m.groups()), m.start(), m.end()))
    for rx in (_IPV4, _IPV6):
        for m in rx.finditer(text):
            try:
                found.append(("ip_address", ipaddress.ip_address(m.group(0)).compressed, m.start(), m.end()))
            except ValueError:
                continue
    for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        found.append(("phone", phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164),
                      m.start, m.end))
    found.sort(key=lambda f: (f[2], -(f[3] - f[2])))
    out, end = [], -1
    for f in found:
        if f[2] >= end:
            out.append(f)
            end = f[3]
    return out


def _key(kind: str, value: str) -> bytes:
    import hashlib

    return hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=16).digest()


def pii_keys(texts, region: str = "US") -> set[bytes]:
    """Content keys (blake2b-128 of kind and normalised value) of the personal data in ``texts``:
    what replay is judged against, so no real value is kept in memory longer than its scan."""
    keys: set[bytes] = set()
    for t in texts:
        for kind, value, _, _ in find_pii(t, region):
            keys.add(_key(kind, value))
    return keys


def pii_replay(texts, real_keys: set[bytes], region: str = "US") -> list[list[tuple[str, bool]]]:
    """For each synthetic text, its personal data as ``(kind, replayed)`` pairs: ``replayed`` when
    the normalised value also occurs in the real data (``real_keys`` from :func:`pii_keys`). Values
    are not returned, so callers cannot leak them by accident."""
    return [[(kind, _key(kind, value) in real_keys) for kind, value, _, _ in find_pii(t, region)] for t in texts]


def combination_codes(frames: list, columns: list[str]) -> list[np.ndarray]:
    """One int64 code per row of each frame for its combination of ``columns``, shared across the
    frames (values compared by their string form; a missing value is one value of its own)."""
    import pandas as pd

    def keys(df):
        sub = df[columns]
        return pd.util.hash_pandas_object(sub.astype(object).where(sub.notna(), "\x00<NA>").astype(str),
                                          index=False).to_numpy()
    parts = [keys(f) for f in frames]
    codes, _ = pd.factorize(np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64))
    out, at = [], 0
    for p in parts:
        out.append(codes[at:at + len(p)].astype(np.int64))
        at += len(p)
    return out


def rare_combinations(real, synthetic, columns: list[str], k: int) -> tuple[int, list[int]]:
    """Synthetic rows that reproduce a combination of ``columns`` (quasi-identifiers) seen fewer
    than ``k`` times (and at least once) in the real data: rare real records replayed.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        With ``columns`` of the same dtypes (see :func:`combination_codes`).
    columns : list of str
    k : int
        A real combination seen fewer than ``k`` times is rare (``k >= 2``).

    Returns
    -------
    (rare real combinations, positions of the synthetic rows reproducing one)
    """
    if k < 2:
        raise ValueError("k must be at least 2")
    cr, cs = combination_codes([real, synthetic], columns)
    counts = np.bincount(cr, minlength=int(max(cr.max(initial=-1), cs.max(initial=-1))) + 1)
    rare = (counts > 0) & (counts < k)
    return int(rare.sum()), np.flatnonzero(rare[cs]).tolist()


def rare_replay(train: np.ndarray, control: np.ndarray, syn: np.ndarray, k: int, n_permutations: int,
                rng: np.random.Generator) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Synthetic rows reproducing a combination rare among the training rows (seen 1 to ``k - 1``
    times) and, as the control, rare among as many holdout rows; with the null of both counts
    when the pooled training and holdout rows are split at random into two halves, as often as
    ``n_permutations`` (exchangeable when the generator did not memorise its training rows).

    ``train``, ``control``, ``syn``: :func:`combination_codes` (equal lengths for train and control).

    Returns
    -------
    (training hits, control hits, null training hits, null control hits): int and int64 arrays of
    shape ``(n_permutations,)``.
    """
    n = len(train)
    if len(control) != n:
        raise ValueError("training and control rows must be equally many")
    pooled = np.concatenate([train, control])
    v = int(max(pooled.max(initial=-1), syn.max(initial=-1))) + 1
    syn_counts = np.bincount(syn, minlength=v)

    def hits(codes):
        c = np.bincount(codes, minlength=v)
        return int(syn_counts[(c > 0) & (c < k)].sum())
    null_t, null_c = np.empty(n_permutations, dtype=np.int64), np.empty(n_permutations, dtype=np.int64)
    for r in range(n_permutations):
        perm = rng.permutation(2 * n)
        null_t[r], null_c[r] = hits(pooled[perm[:n]]), hits(pooled[perm[n:]])
    return hits(train), hits(control), null_t, null_c


def _key64(kind: str, value: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=8).digest(), "little")


def pii_records(texts, region: str = "US") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every piece of personal data in ``texts`` as three aligned arrays: the text's position
    (int64), the kind (int8, an index into :data:`KINDS`) and a content key (uint64, blake2b-64 of
    kind and normalised value; collisions below 1e-9 for 10^5 values). Values are not returned.
    Equal texts are scanned once."""
    cache: dict[str, list[tuple[int, int]]] = {}
    rows, kinds, keys = [], [], []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            continue
        got = cache.get(t)
        if got is None:
            got = cache[t] = [(KINDS.index(k), _key64(k, v)) for k, v, _, _ in find_pii(t, region)]
        for k, key in got:
            rows.append(i)
            kinds.append(k)
            keys.append(key)
    return (np.asarray(rows, dtype=np.int64), np.asarray(kinds, dtype=np.int8), np.asarray(keys, dtype=np.uint64))


def replayed(keys: np.ndarray, rows: np.ndarray, against: np.ndarray) -> np.ndarray:
    """The distinct rows (ascending) holding a key that is also in ``against`` (keys of real records)."""
    return np.unique(rows[np.isin(keys, against)])


def replay_rates(real: tuple[np.ndarray, np.ndarray], n_real: int, syn: tuple[np.ndarray, np.ndarray],
                 n_syn: int) -> tuple[float, float]:
    """PII replay and its real-data null.

    ``real`` and ``syn`` are ``(rows, keys)`` of :func:`pii_records` over ``n_real`` real and
    ``n_syn`` synthetic records. Returns ``(value, loo)``: ``value`` the share of synthetic records
    holding a key some real record holds; ``loo`` the leave-one-out share of real records holding
    a key another real record holds (real people share a company's switchboard, a support address,
    a quoted author's e-mail): the chance that one more record drawn from the real data replays
    the rest, the binomial null's rate. Both in [0, 1]; larger is worse.
    """
    rr, kr = real
    rs, ks = syn
    value = replayed(ks, rs, np.unique(kr)).size / max(n_syn, 1)
    pairs = np.unique(np.stack([kr, rr.astype(np.uint64)], axis=1), axis=0) if kr.size else np.zeros((0, 2), np.uint64)
    keys, holders = np.unique(pairs[:, 0], return_counts=True)
    shared = np.isin(pairs[:, 0], keys[holders > 1])
    loo = np.unique(pairs[shared, 1]).size / max(n_real, 1)
    return value, float(loo)
