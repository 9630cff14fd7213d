"""`meterstream up` as a user runs it: ready on its port, and Ctrl-C (SIGINT)
stops every process it started - also when launched in the background, where
a shell leaves SIGINT ignored."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from meterstream.broker import free_port

pytestmark = pytest.mark.e2e


def test_up_serves_and_sigint_stops_everything(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    up = subprocess.Popen(
        [sys.executable, "-m", "meterstream.cli", "up", "--port", str(port), "--run-dir", str(tmp_path)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as a background job inherits it
    )
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert up.poll() is None, up.stdout.read().decode()
            time.sleep(0.5)
        else:
            pytest.fail("not ready within 90 s")
        children = psutil.Process(up.pid).children(recursive=True)
        assert len(children) >= 6  # broker and five services
        assert (tmp_path / "up.pid").read_text() == str(up.pid)

        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 0
        gone, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, f"still running after Ctrl-C: {[p.cmdline() for p in alive]}"
        assert not (tmp_path / "up.pid").exists()
        assert "stopped." in up.stdout.read().decode()
    finally:
        for proc in [*children, *([psutil.Process(up.pid)] if up.poll() is None else [])]:
            if proc.is_running():
                proc.kill()
