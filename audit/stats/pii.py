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

import phonenumbers

KINDS = ("email", "phone", "payment_card", "iban", "ip_address", "us_ssn")

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![\w-])")
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
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
    if not isinstance(text, str) or not text:
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


def rare_combinations(real, synthetic, columns: list[str], k: int) -> tuple[int, list[int]]:
    """Synthetic rows that reproduce a combination of ``columns`` (quasi-identifiers) seen fewer
    than ``k`` times (and at least once) in the real data: rare real records replayed.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        With ``columns`` of the same dtypes (values are compared by their string form; a missing
        value is one value of its own).
    columns : list of str
    k : int
        A real combination seen fewer than ``k`` times is rare (``k >= 2``).

    Returns
    -------
    (rare real combinations, positions of the synthetic rows reproducing one)
    """
    import pandas as pd

    if k < 2:
        raise ValueError("k must be at least 2")

    def keys(df):
        sub = df[columns]
        return pd.util.hash_pandas_object(sub.astype(object).where(sub.notna(), "\x00<NA>").astype(str),
                                          index=False).to_numpy()
    counts = pd.Series(keys(real)).value_counts()
    rare = set(counts[counts < k].index.tolist())
    hits = [i for i, h in enumerate(keys(synthetic).tolist()) if h in rare]
    return len(rare), hits
