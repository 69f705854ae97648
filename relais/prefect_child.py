"""Prefect's ephemeral server dies with the process that started it.

In the embedded set-up Prefect runs its API as a child process (``SubprocessASGIServer``:
``python -m uvicorn prefect.server.api.server:create_app``), stopped by an ``atexit`` hook.
A ``kill -9`` or a crash of ``relais serve`` runs no hook, and the child lived on, orphaned,
holding its port and its database.

On Linux the child now asks the kernel to send it SIGTERM when its parent goes
(``prctl(PR_SET_PDEATHSIG)``), through a small launcher that sets it and then ``exec``s
Prefect's own command unchanged: no Python code runs between ``fork`` and ``exec`` in a
process full of threads (what ``preexec_fn`` would do), and the setting survives ``exec``.
The kernel counts the *thread* that started the child as its parent: here an orchestration
loop thread, which lives as long as the orchestration does.

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


def main(argv: list[str]) -> None:
    parent, command = int(argv[0]), argv[1:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:  # the parent died before the signal was asked for
        sys.exit(1)
    os.execv(command[0], command)  # noqa: S606 (the command Prefect gave, unchanged)


if __name__ == "__main__":
    main(sys.argv[1:])
