"""A person, identified by AVS number, with the eCH-0044 identification fields."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from .avs import InvalidAVS, format_avs, normalize_avs

SEX = {"1": "male", "2": "female", "3": "unknown"}  # eCH-0044 sexType codes
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")  # E.164, as SMS gateways expect
_ADDRESS = ("street", "postcode", "town")
_POSTCODE = re.compile(r"^[0-9]{4}$")


class InvalidPerson(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Person:
    avs: str  # 13 digits, check digit verified
    official_name: str
    first_name: str
    birth_date: date
    sex: str | None = None  # eCH-0044: "1" male, "2" female, "3" unknown
    nationality: str | None = None  # ISO 3166-1 alpha-2
    email: str | None = None
    phone: str | None = None  # E.164 (+41791234567): SMS
    address: dict[str, str] | None = None  # street, postcode, town: printed letters

    @property
    def avs_formatted(self) -> str:
        return format_avs(self.avs)

    def as_dict(self) -> dict[str, Any]:
        return {"avs": format_avs(self.avs), "official_name": self.official_name,
                "first_name": self.first_name, "birth_date": self.birth_date.isoformat(),
                "sex": self.sex, "nationality": self.nationality, "email": self.email,
                "phone": self.phone, "address": self.address}


# control (Cc), format (Cf: bidi overrides, zero-width, BOM), line and paragraph separators:
# invisible or reordering characters make a name that reads as another one, or as nothing
_HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def visible_text(value: str) -> bool:
    """Text a person can read as written: no control, format or unassigned characters."""
    return not any(unicodedata.category(c) in _HIDDEN for c in value)


NOT_A_NAME = ("un nom s'écrit avec des lettres, sans caractère invisible ni de contrôle / a "
              "name is written with letters, without invisible or control characters")


def is_a_name(value: str) -> bool:
    """A person's name (or a consent's grantor): some letter, nothing invisible."""
    return visible_text(value) and any(c.isalpha() for c in value)


def _name(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidPerson(key, "obligatoire / required")
    if len(value) > 100:
        raise InvalidPerson(key, "100 caractères au plus / at most 100 characters")
    if not is_a_name(value):
        raise InvalidPerson(key, NOT_A_NAME)
    return value.strip()


def person_from(data: dict[str, Any], today: date | None = None) -> Person:
    """Build a Person from request-like data; InvalidPerson names the (first) field at
    fault. ``person_problems`` names them all."""
    if not isinstance(data, dict):
        raise InvalidPerson("person", "un objet est attendu / an object is expected")
    return Person(_avs(data), _name(data, "official_name"), _name(data, "first_name"),
                  _birth(data, today), _sex(data), _nationality(data), *_contact(data))


def person_problems(data: dict[str, Any], today: date | None = None) -> dict[str, str]:
    """Every field at fault in ``data`` and why, each checked on its own: a form shows them
    all at once (empty when ``person_from`` would accept it)."""
    problems: dict[str, str] = {}
    checks = [_avs, lambda d: _name(d, "official_name"), lambda d: _name(d, "first_name"),
              lambda d: _birth(d, today), _sex, _nationality, _email, _phone, _address]
    for check in checks:
        try:
            check(data)
        except InvalidPerson as exc:
            problems.setdefault(exc.field, exc.message)
    return problems


def _avs(data: dict[str, Any]) -> str:
    try:
        return normalize_avs(data.get("avs"))  # type: ignore[arg-type]
    except InvalidAVS as exc:
        raise InvalidPerson("avs", str(exc)) from None


def _birth(data: dict[str, Any], today: date | None) -> date:
    raw = data.get("birth_date")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidPerson("birth_date", "obligatoire / required")
    try:
        birth = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidPerson("birth_date", "date attendue, p. ex. 1978-03-14 / a date, e.g. "
                            "1978-03-14") from None
    if birth > (today or date.today()) or birth.year < 1900:
        raise InvalidPerson("birth_date", "date de naissance impossible / impossible birth date")
    return birth


def _sex(data: dict[str, Any]) -> str | None:
    sex = data.get("sex")
    if sex is not None:
        sex = str(sex)
        if sex not in SEX:
            raise InvalidPerson("sex", "1 (homme), 2 (femme) ou 3 (inconnu) / 1, 2 or 3 (eCH-0044)")
    return sex


def _nationality(data: dict[str, Any]) -> str | None:
    nationality = data.get("nationality")
    if nationality is not None and (not isinstance(nationality, str)
                                    or not _COUNTRY.match(nationality)):
        raise InvalidPerson("nationality", "code pays ISO à deux lettres / ISO 3166 alpha-2 code")
    return nationality


def _contact(data: dict[str, Any]) -> tuple[str | None, str | None, dict[str, str] | None]:
    return _email(data), _phone(data), _address(data)


def _email(data: dict[str, Any]) -> str | None:
    email = data.get("email")
    if email is not None and (not isinstance(email, str) or len(email) > 200
                              or not _EMAIL.match(email)):
        raise InvalidPerson("email", "adresse e-mail invalide / invalid e-mail address")
    return email


def _phone(data: dict[str, Any]) -> str | None:
    phone = data.get("phone")
    if phone is not None:
        phone = _e164(re.sub(r"[\s./()-]", "", str(phone)))
        if not _PHONE.match(phone):
            raise InvalidPerson("phone", "numéro de téléphone invalide (ex. +41 79 123 45 67) "
                                "/ invalid phone number")
    return phone


def _address(data: dict[str, Any]) -> dict[str, str] | None:
    address = data.get("address")
    if address is None:
        return None
    if not isinstance(address, dict) or set(address) - set(_ADDRESS) \
            or not all(isinstance(address.get(k), str) and 0 < len(address[k].strip()) <= 100
                       and visible_text(address[k]) for k in _ADDRESS):
        raise InvalidPerson("address", "rue, NPA et localité attendus / street, postcode "
                            "and town expected")
    address = {k: address[k].strip() for k in _ADDRESS}
    if not _POSTCODE.match(address["postcode"]) \
            or not 1000 <= int(address["postcode"]) <= 9699:
        raise InvalidPerson("address.postcode", "NPA suisse de 4 chiffres (1000 à 9699) / "
                            "Swiss postcode of 4 digits (1000 to 9699)")
    return address


def _e164(number: str) -> str:
    """``0041…`` and the national ``079…`` (Switzerland) written as ``+41…``."""
    if number.startswith("00"):
        return "+" + number[2:]
    if number.startswith("0"):
        return "+41" + number[1:]
    return number


def checked_contact(contact: dict[str, Any]) -> dict[str, Any]:
    """A contact alone (e-mail, phone, address), checked as a referral's would be."""
    if not isinstance(contact, dict):
        raise InvalidPerson("contact", "un objet est attendu / an object is expected")
    email, phone, address = _contact(contact)
    return {"email": email, "phone": phone, "address": address}
