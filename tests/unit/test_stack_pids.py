"""stack.pids.is_alive: running, exited-but-unreaped (zombie) and reaped processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devstack.processes import wait_until
from stack.pids import is_alive
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
