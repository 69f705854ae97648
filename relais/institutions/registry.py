"""The registry of institutions: codes, kinds, names.

A route names institutions either by kind (``AC``) or by code (``ORP-LCF``); the registry
answers which institutions a name covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import yaml


class Kind(StrEnum):
    AC = "AC"  # unemployment insurance
    AI = "AI"  # disability insurance
    SA = "SA"  # social assistance
    FP = "FP"  # vocational training
    MIG = "MIG"  # migration
    CII = "CII"  # the cantonal CII coordination


class Role(StrEnum):
    case_manager = "case_manager"
    coordinator = "coordinator"
    steering = "steering"
    admin = "admin"


@dataclass(frozen=True, slots=True)
class Institution:
    code: str
    kind: Kind
    name: Mapping[str, str]
    city: str = ""
    email: str = ""  # the institution's CII address: invitations, handoffs, reminders
    address: str = ""  # postal address, on letters
    lang: str = "fr"  # the language its letters are written in (fr, de, it, en)


class UnknownInstitution(LookupError):
    pass


class Registry:
    """An immutable set of institutions, looked up by code or by kind."""

    def __init__(self, institutions: Iterable[Institution]) -> None:
        self._by_code: dict[str, Institution] = {}
        for inst in institutions:
            if inst.code in self._by_code:
                raise ValueError(f"institution {inst.code} is listed twice")
            self._by_code[inst.code] = inst

    def __iter__(self) -> Iterator[Institution]:
        return iter(self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Institution:
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownInstitution(code) from None

    def knows(self, name: str) -> bool:
        """True when ``name`` is a kind or a registered code."""
        return name in Kind.__members__ or name in self._by_code

    def covered_by(self, name: str) -> list[Institution]:
        """The institutions a route name (kind or code) stands for."""
        if name in Kind.__members__:
            return [i for i in self._by_code.values() if i.kind == name]
        inst = self._by_code.get(name)
        return [inst] if inst else []

    def matches(self, code: str, names: Iterable[str]) -> bool:
        """Is institution ``code`` one of ``names`` (kinds or codes)?"""
        inst = self._by_code.get(code)
        if inst is None:
            return False
        return any(n == inst.code or n == inst.kind for n in names)


@cache
def default_registry() -> Registry:
    """The institutions of Neuchâtel shipped with Relais."""
    text = resources.files("relais.institutions").joinpath("data/neuchatel.yaml").read_text("utf-8")
    return Registry(
        Institution(code=d["code"], kind=Kind(d["kind"]), name=d["name"], city=d.get("city", ""),
                    email=d.get("email", ""), address=d.get("address", ""),
                    lang=d.get("lang", "fr"))
        for d in yaml.safe_load(text)["institutions"]
    )
