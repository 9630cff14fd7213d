"""Valid-looking supply point identifiers for synthetic meters.

Synthetic MPANs carry a correct check digit so they pass the same
validation as real ones; otherwise tests and demos would exercise the
rejection path instead of the happy path.
"""
from __future__ import annotations

import random

MPAN_PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)

DISTRIBUTOR_IDS = {
    "London": "12",
    "Southampton": "20",
    "Bristol": "22",
    "Cardiff": "21",
    "Norwich": "10",
    "Birmingham": "14",
    "Nottingham": "11",
    "Manchester": "16",
    "Leeds": "23",
    "Newcastle": "15",
    "Glasgow": "18",
    "Edinburgh": "18",
}
"""Distribution network operator id (first two digits of the MPAN core) by weather location."""


def mpan_check_digit(first_twelve: str) -> int:
    """Elexon MPAN core check digit: prime-weighted digit sum, mod 11, mod 10."""
    if len(first_twelve) != 12 or not first_twelve.isdigit():
        raise ValueError(f"need 12 digits, got {first_twelve!r}")
    return sum(int(d) * p for d, p in zip(first_twelve, MPAN_PRIMES)) % 11 % 10


def is_valid_mpan_core(core: str) -> bool:
    """True for 13 digits whose last digit is the check digit of the first twelve."""
    return len(core) == 13 and core.isdigit() and mpan_check_digit(core[:12]) == int(core[12])


def random_mpan_core(rng: random.Random, distributor_id: str) -> str:
    """A 13-digit MPAN core in the given distributor's area with a valid check digit."""
    body = distributor_id + "".join(rng.choice("0123456789") for _ in range(10))
    return body + str(mpan_check_digit(body))


def random_mprn(rng: random.Random) -> str:
    """An MPRN of 6-10 digits, mostly 10 as issued today, never with a leading zero."""
    length = rng.choices((6, 7, 8, 9, 10), weights=(1, 1, 2, 6, 40))[0]
    return str(rng.randint(10 ** (length - 1), 10**length - 1))
