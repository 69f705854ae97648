"""Prefect's ephemeral server dies with the process that started it.

In the embedded set-up Prefect runs its API as a child process (``SubprocessASGIServer``:
``python -m uvicorn prefect.server.api.server:create_app``), stopped by an ``atexit`` hook.
A ``kill -9`` or a crash of ``relais serve`` runs no hook, and the child lived on, orphaned,
holding its port and its database.

On Linux Prefect's command now runs under a small watchdog process: it starts the command,
passes a stop on to it, and stops it as soon as its own parent is gone (``getppid`` changes
when the parent *process* dies, whatever thread started it: the kernel's parent-death signal
counts the starting thread, and a thread of the orchestration or of a test that ends would
have taken Prefect's server down with it). The server itself gets the kernel's parent-death
signal towards the watchdog, whose one thread lives as long as it does: a killed watchdog
leaves nothing behind either.

    python -m relais.prefect_child PARENT_PID COMMAND...
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from typing import Any

PR_SET_PDEATHSIG = 1


class _Spawner:
    """Stands for the ``subprocess`` module in Prefect's server module: the same, except that
    ``Popen`` starts the command through this launcher."""

    def __init__(self, parent: int) -> None:
        self.parent = parent

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:  # noqa: N802
        return subprocess.Popen(  # noqa: S603 (Prefect's own command, behind the launcher)
            [sys.executable, "-m", __name__, str(self.parent), *args], **kwargs)


def install() -> None:
    """Start Prefect's ephemeral server, when it starts, so that it dies with this process."""
    if not sys.platform.startswith("linux"):
        return  # no PDEATHSIG elsewhere: the atexit hook is all there is
    from prefect.server.api import server
    # Prefect calls ``subprocess.Popen`` through its module's global: the one name changed
    if not isinstance(getattr(server, "subprocess", None), _Spawner):
        setattr(server, "subprocess", _Spawner(os.getpid()))  # noqa: B010


POLL_S = 0.5  # how soon a dead parent is noticed
STOP_S = 10.0  # how long the server has to stop before it is killed


def _dies_with_this_process() -> None:
    """In the server, between fork and exec (the watchdog has one thread: safe here)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def main(argv: list[str]) -> None:
    parent, command = int(argv[0]), argv[1:]
    if os.getppid() != parent:  # the parent died before the watchdog began
        sys.exit(1)
    child = subprocess.Popen(command, preexec_fn=_dies_with_this_process)  # noqa: S603
    stopping: list[int] = []

    def asked_to_stop(signum: int, _: object) -> None:
        stopping.append(signum)
        child.terminate()

    signal.signal(signal.SIGTERM, asked_to_stop)
    signal.signal(signal.SIGINT, asked_to_stop)
    while True:
        try:
            sys.exit(child.wait(POLL_S) if not stopping else _wait(child))
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:  # orphaned: the process that started us is gone
                child.terminate()
                _wait(child)
                sys.exit(0)


def _wait(child: subprocess.Popen[bytes]) -> int:
    try:
        return child.wait(STOP_S)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
