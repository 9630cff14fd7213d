"""`meterstream up` refuses clearly instead of failing obscurely."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from meterstream.stack import Stack, StackError
from shared.config import Settings

pytestmark = pytest.mark.integration


def test_second_up_on_the_same_run_dir_says_so(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "up.pid").write_text(str(other.pid))
        stack = Stack(Settings(run_dir=tmp_path, gateway_port=1), embedded_broker=False)
        with pytest.raises(StackError, match="already running"):
            stack.prepare()
    finally:
        other.kill()
        other.wait()


def test_busy_gateway_port_says_so(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        stack = Stack(Settings(run_dir=tmp_path, gateway_port=s.getsockname()[1]), embedded_broker=False)
        with pytest.raises(StackError, match="already in use"):
            stack.prepare()


def test_stale_pid_file_does_not_block(tmp_path):
    (tmp_path / "up.pid").write_text("999999")
    assert Stack(Settings(run_dir=tmp_path), embedded_broker=False).running_pid() is None
