"""A route's ``consent`` fields: yes/no values the guards read, computed from the case's
consent records (never written). A consent field holds while an active consent of the case
names each of its recipients (``Route.consent_recipients``): the consent names it (its code
or its kind), or names an institution it stands for, or it stands for the institution that
recorded the consent (which holds the person's signed form)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from relais.conventions.data_sharing import Consent
from relais.institutions.registry import Registry
from relais.workflows.engine.model import Route


def names(consent: Consent, wanted: str, registry: Registry) -> bool:
    """Does ``consent`` name ``wanted`` (a kind or a code)?"""
    if wanted in consent.recipients:
        return True
    if consent.holder is not None and registry.matches(consent.holder, [wanted]):
        return True
    return any(registry.matches(i.code, consent.recipients) for i in registry.covered_by(wanted))


def consent_values(route: Route, consents: Iterable[Consent], registry: Registry,
                   today: date) -> dict[str, bool]:
    """Each consent field of ``route``, as the guards read it on ``today``."""
    active = [c for c in consents if c.active(today)]
    return {spec.name: any(all(names(c, who, registry)
                               for who in route.consent_recipients(spec)) for c in active)
            for spec in route.consent_fields}


def network_recipients(route: Route, recorder: str, registry: Registry,
                       coordination: str) -> list[str]:
    """Whom a referral's consent names by default: the route's institutions and the
    coordination, the recording institution left out (a consent is never recorded in its
    own favour; the other institutions of its kind are named by code)."""
    out: list[str] = []
    for name in route.institutions:
        if registry.matches(recorder, [name]):
            out += [i.code for i in registry.covered_by(name) if i.code != recorder]
        else:
            out.append(name)
    if not registry.matches(recorder, [coordination]):
        out.append(coordination)
    return list(dict.fromkeys(out))


class GuardValues(Mapping[str, Any]):
    """A case's values as its guards read them: the stored ones, and its consent fields
    computed only when a guard reads one (the consent records then loaded once): an event
    whose guard reads no consent costs no read of them."""

    def __init__(self, stored: Mapping[str, Any], names: frozenset[str],
                 compute: Callable[[], dict[str, bool]]) -> None:
        self._stored, self._names, self._compute = stored, names, compute
        self._computed: dict[str, bool] | None = None

    def __getitem__(self, key: str) -> Any:
        if key in self._names:
            if self._computed is None:
                self._computed = self._compute()
            return self._computed[key]
        return self._stored[key]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._stored, *self._names]))

    def __len__(self) -> int:
        return len(set(self._stored) | self._names)
