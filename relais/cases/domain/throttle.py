"""How much guessing a sign-in allows: free tries, then waits that double.

Each attempt is tallied twice: for the name tried from one address (``PAIR``: a few free
tries, then waits doubling up to a quarter of an hour), and for the address whatever the
name (``ADDRESS``: looser, against someone spraying many names). Neither is ever a lock of
the person: the waits belong to the address that failed, so a stranger who types a
colleague's name elsewhere only slows down himself (OWASP ASVS 2.2.1). A tally forgives one
failure every ``forgive_every``, so an office's occasional typos never add up to a wait.

An attempt is charged *before* its password is checked and given back when it was right:
tries made at the same moment cannot slip past the budget. Plain Python; the store keeps
the tallies (``cases/store/sign_in_tally.py``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

NO_WAIT = timedelta(0)


@dataclass(frozen=True)
class Budget:
    free: int  # failures before any wait
    first_wait: timedelta
    longest_wait: timedelta
    forgive_every: timedelta  # one failure forgiven per this much time

    def wait(self, failures: int) -> timedelta:
        """The wait before the next try after ``failures`` failures."""
        if failures < self.free:
            return NO_WAIT
        doublings: int = min(failures - self.free, 30)
        return min(self.first_wait * (1 << doublings), self.longest_wait)


PAIR = Budget(free=5, first_wait=timedelta(seconds=2), longest_wait=timedelta(minutes=15),
              forgive_every=timedelta(hours=1))
ADDRESS = Budget(free=30, first_wait=timedelta(seconds=1), longest_wait=timedelta(minutes=10),
                 forgive_every=timedelta(minutes=2))


@dataclass(frozen=True)
class Tally:
    failures: int
    since: datetime  # forgiveness is counted from here
    next_at: datetime  # no try before this


@dataclass(frozen=True)
class Try:
    tally: Tally  # what to keep
    wait: timedelta  # NO_WAIT: go on; otherwise the try is refused, and nothing changes


def forgiven(budget: Budget, tally: Tally, now: datetime) -> Tally:
    """``tally`` less the failures forgiven by ``now``."""
    k = max(int((now - tally.since) / budget.forgive_every), 0)
    if k >= tally.failures:
        return Tally(0, now, tally.next_at)
    return Tally(tally.failures - k, tally.since + k * budget.forgive_every, tally.next_at)


def charge(budget: Budget, tally: Tally | None, now: datetime) -> Try:
    """One more try at ``now``, counted as a failure until it proves right."""
    if tally is not None and tally.next_at > now:
        return Try(tally, tally.next_at - now)
    kept = forgiven(budget, tally, now) if tally is not None else Tally(0, now, now)
    failures = kept.failures + 1
    return Try(Tally(failures, kept.since, now + budget.wait(failures)), NO_WAIT)


def refund(budget: Budget, tally: Tally) -> Tally:
    """The tally once the try charged last was right: its failure given back."""
    failures = max(tally.failures - 1, 0)
    next_at = tally.next_at if failures >= budget.free else min(tally.since, tally.next_at)
    return Tally(failures, tally.since, next_at)


def address_group(address: str) -> str:
    """What an address is tallied as: an IPv4 address itself, an IPv6 address its /64 (one
    subscriber's whole network, which they may draw fresh addresses from at will)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def clear_at(budget: Budget, tally: Tally) -> datetime:
    """When the tally says nothing any more (every failure forgiven, no wait): then it may go."""
    return max(tally.next_at, tally.since + tally.failures * budget.forgive_every)
