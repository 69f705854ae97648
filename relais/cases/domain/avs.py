"""The Swiss social-security number (AVS/AHV, NAVS13): 756.NNNN.NNNN.NC, EAN-13 check digit."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"^756\d{10}$")


class InvalidAVS(ValueError):
    pass


def ean13_check_digit(first12: str) -> int:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def normalize_avs(text: str) -> str:
    """``756.1234.5678.97`` (dots, spaces optional) -> ``7561234567897``; InvalidAVS otherwise."""
    if not isinstance(text, str):
        raise InvalidAVS("le numéro AVS doit être un texte / the AVS number must be text")
    digits = re.sub(r"[.\s]", "", text)
    if not _DIGITS.match(digits):
        raise InvalidAVS(f"« {text[:40]} » n'est pas un numéro AVS à 13 chiffres commençant par "
                         f"756 / is not a 13-digit AVS number starting with 756")
    if ean13_check_digit(digits[:12]) != int(digits[12]):
        raise InvalidAVS(f"« {text[:40]} » : chiffre de contrôle erroné / wrong check digit")
    return digits


def format_avs(digits: str) -> str:
    return f"{digits[:3]}.{digits[3:7]}.{digits[7:11]}.{digits[11:]}"
