"""PII detection (``synthproof.stats.pii``): each kind found and normalised, checksums right,
near-misses (a failed Luhn or mod-97, an invalid SSN area, dates, times, versions) not reported."""

from __future__ import annotations

import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthproof.stats.pii import find_pii, iban_valid, luhn_valid


def kinds(text):
    return [(k, v) for k, v, _, _ in find_pii(text)]


@pytest.mark.parametrize("text, want", [
    ("write to Jane.Doe@Example.COM today", [("email", "jane.doe@example.com")]),
    ("call (415) 555-2671", [("phone", "+14155552671")]),
    ("ring +44 20 7946 0958", [("phone", "+442079460958")]),
    ("card 4111-1111-1111-1111", [("payment_card", "4111111111111111")]),
    ("card 5500 0000 0000 0004", [("payment_card", "5500000000000004")]),
    ("iban GB82 WEST 1234 5698 7654 32", [("iban", "GB82WEST12345698765432")]),
    ("de DE89370400440532013000 ok", [("iban", "DE89370400440532013000")]),
    ("from 10.0.0.7 and 2001:0db8:0000:0000:0000:0000:0000:0001", [("ip_address", "10.0.0.7"),
                                                                     ("ip_address", "2001:db8::1")]),
    ("ssn 123-45-6789", [("us_ssn", "123456789")]),
])
def test_each_kind_is_found_and_normalised(text, want):
    assert kinds(text) == want


@pytest.mark.parametrize("text", [
    "card 4111 1111 1111 1112",           # Luhn fails
    "iban GB82 WEST 1234 5698 7654 33",   # mod 97 fails
    "ssn 666-12-3456 or 900-12-3456 or 123-00-4567",
    "on 2024-01-02 at 10:30, v1.2.3, 999.1.1.1, order 12345",
    "no personal data here, just words and 42",
])
def test_near_misses_are_not_reported(text):
    assert kinds(text) == []


def test_checksums():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710") and not luhn_valid("12a4")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82WEST123") and not iban_valid("")


@given(st.integers(0, 2**31))
@settings(max_examples=50, deadline=None)
def test_any_luhn_valid_card_is_found(seed):
    rng = np.random.default_rng(seed)
    body = str(int(rng.integers(2, 7))) + "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(12, 18))))
    check = next(str(d) for d in range(10) if luhn_valid(body + str(d)))
    number = body + check
    grouped = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    assert kinds(f"pay with {grouped} please") == [("payment_card", number)]


@given(st.text(alphabet=string.ascii_letters + " ,.;!?'", max_size=200))
@settings(max_examples=100, deadline=None)
def test_plain_words_hold_no_pii(text):
    assert find_pii(text) == []


def test_replay_names_kinds_not_values():
    from synthproof.stats.pii import pii_keys, pii_replay

    real = ["contact ana@example.org or 4111 1111 1111 1111", "ip 10.0.0.7"]
    syn = ["mail ANA@example.org now", "mail bob@example.org", "card 4111-1111-1111-1111 and ip 10.0.0.8", "nothing"]
    got = pii_replay(syn, pii_keys(real))
    assert got == [[("email", True)], [("email", False)], [("payment_card", True), ("ip_address", False)], []]
    assert all(isinstance(k, bytes) and len(k) == 16 for k in pii_keys(real))  # values kept only as keys


def test_rare_real_combinations_replayed():
    import pandas as pd

    from synthproof.stats.pii import rare_combinations

    real = pd.DataFrame({"zip": ["1", "1", "1", "2", "3"], "age": [30, 30, 30, 41, None]})
    syn = pd.DataFrame({"zip": ["1", "2", "3", "9"], "age": [30, 41, None, 41]})
    n_rare, rows = rare_combinations(real, syn, ["zip", "age"], k=2)
    assert n_rare == 2 and rows == [1, 2]  # (2, 41) and (3, missing) are unique in the real data
    assert rare_combinations(real, syn, ["zip", "age"], k=4)[1] == [0, 1, 2]
    with pytest.raises(ValueError):
        rare_combinations(real, syn, ["zip"], k=1)
