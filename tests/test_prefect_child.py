"""The watchdog that keeps Prefect's embedded server tied to the process that started it
(relais/prefect_child.py), tried with a stand-in command: it outlives the thread that
started it, and it goes when that process is killed or asks it to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone for our purpose


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in found.read_text().split()] if found.exists() else []


def gone_within(pid: int, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def watched(parent: int) -> list[str]:
    return [sys.executable, "-m", "relais.prefect_child", str(parent), "/bin/sleep", "60"]


def test_the_server_outlives_the_thread_that_started_it_and_stops_when_asked() -> None:
    started: list[subprocess.Popen[bytes]] = []
    thread = threading.Thread(target=lambda: started.append(subprocess.Popen(
        watched(os.getpid()), cwd=Path(__file__).parents[1])))
    thread.start()
    thread.join()  # the starting thread is gone, as a test's or a loop's may be
    watchdog = started[0]
    time.sleep(1.5)
    [server] = children(watchdog.pid)
    assert alive(watchdog.pid) and alive(server)
    watchdog.terminate()  # what Prefect's atexit hook does
    watchdog.wait(15)  # it returns: it passed the stop on and waited for the server
    assert gone_within(server, 5)


def test_the_server_goes_when_the_process_that_started_it_is_killed() -> None:
    script = ("import os, subprocess, sys, time; "
              f"subprocess.Popen({watched(0)!r}[:3] + [str(os.getpid())] + {watched(0)!r}[4:]); "
              "time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[1])
    try:
        time.sleep(1.5)
        [watchdog] = children(parent.pid)
        time.sleep(0.5)
        [server] = children(watchdog)
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        assert gone_within(watchdog, 5) and gone_within(server, 5)
    finally:
        if parent.poll() is None:
            parent.kill()
