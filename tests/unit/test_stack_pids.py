"""stack.pids: is_alive on running, zombie and reaped processes; live_members of a group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from devstack.processes import wait_until
from stack.pids import is_alive, live_members
from stack.supervised import services_view


def test_a_running_process_is_alive_and_an_exited_unreaped_one_is_not() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert is_alive(child.pid)
        assert child.stdin is not None
        child.stdin.close()  # it exits; not waited for, it stays a zombie
        assert wait_until(lambda: not is_alive(child.pid), 10)
    finally:
        child.wait(10)
    assert not is_alive(child.pid)


def test_services_view_without_a_state_file_says_unsupervised(tmp_path: Path) -> None:
    assert services_view(tmp_path) == {"supervised": False, "services": []}


def test_live_members_names_a_group_s_leader_and_what_it_started_until_they_are_gone() -> None:
    leader = subprocess.Popen(["sh", "-c", "sleep 60 & wait"], start_new_session=True)  # noqa: S607
    try:
        assert wait_until(lambda: len(live_members(leader.pid)) == 2, 10)  # sh and its sleep
        assert leader.pid in live_members(leader.pid)
        assert os.getpid() not in live_members(leader.pid)  # our own group is another
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait(10)
        assert wait_until(lambda: live_members(leader.pid) == [], 10)
    finally:
        if leader.poll() is None:
            os.killpg(leader.pid, signal.SIGKILL)
            leader.wait(10)
