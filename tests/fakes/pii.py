"""Seeded personal data for the PII tests: e-mail addresses, US phone numbers and Luhn-valid
card numbers (none belongs to anyone), each checked with the detector so that every planted
value is detectable, plus the other spellings of a value that normalise to it."""

from __future__ import annotations

import numpy as np

from synthproof.stats.pii import find_pii


def luhn_complete(body: str) -> str:
    """``body`` with the check digit that makes it pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def values(n: int, seed: int) -> list[str]:
    """``n`` distinct detectable PII strings, kinds cycling e-mail, phone, card."""
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    while len(out) < n:
        kind = len(out) % 3
        if kind == 0:
            v = f"user{int(rng.integers(10**6))}.s{seed}@mail{int(rng.integers(50))}.example.com"
        elif kind == 1:
            area = int(rng.choice([212, 312, 415, 617, 202, 303]))
            v = f"({area}) {int(rng.integers(234, 988))}-{int(rng.integers(10000)):04d}"
        else:
            v = luhn_complete("4" + "".join(str(int(d)) for d in rng.integers(0, 10, 14)))
        found = find_pii(v)
        if len(found) == 1 and found[0][2] == 0 and found[0][3] == len(v) and found[0][1] not in seen:
            seen.add(found[0][1])
            out.append(v)
    return out


def respelled(value: str) -> str:
    """Another spelling with the same normalised value (upper-case e-mail, dotted phone, grouped card)."""
    if "@" in value:
        return value.upper()
    if value.startswith("("):
        digits = "".join(ch for ch in value if ch.isdigit())
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4))


def normalised(value: str) -> str:
    return find_pii(value)[0][1]
