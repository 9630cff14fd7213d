"""Starting and stopping the whole platform as separate processes.

Used by ``meterstream up`` and by the end-to-end tests: an embedded broker
(unless KAFKA_BOOTSTRAP_SERVERS points at a real one), migrations, topics, then
one process per service, each logging to ``RUN_DIR/logs/<service>.log``.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from meterstream.broker import free_port, port_open, start_broker
from shared import db
from shared.bus import ensure_topics
from shared.config import SERVICES, Settings


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, settings: Settings, embedded_broker: bool, extra_env: dict[str, str] | None = None):
        self.settings = settings
        self.embedded_broker = embedded_broker
        self.run_dir = settings.run_dir.resolve()
        self.logs = self.run_dir / "logs"
        self.extra_env = extra_env or {}
        self.broker: subprocess.Popen | None = None
        self.procs: dict[str, subprocess.Popen] = {}
        self.env: dict[str, str] = {}

    @property
    def gateway_url(self) -> str:
        return f"http://{self.settings.gateway_host}:{self.settings.gateway_port}"

    def _pidfile(self) -> Path:
        return self.run_dir / "up.pid"

    def running_pid(self) -> int | None:
        """The pid of another live ``up`` using this run directory, if any."""
        try:
            pid = int(self._pidfile().read_text())
            os.kill(pid, 0)
            return pid if pid != os.getpid() else None
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None

    def prepare(self) -> None:
        """Broker, secrets, schemas and topics: everything before the services."""
        self.logs.mkdir(parents=True, exist_ok=True)
        if pid := self.running_pid():
            raise StackError(f"meterstream is already running from {self.run_dir} (pid {pid}); "
                             f"stop it with Ctrl-C there, or use another --run-dir")
        if port_open(self.settings.gateway_host, self.settings.gateway_port):
            raise StackError(f"port {self.settings.gateway_port} is already in use; pass --port or set GATEWAY_PORT")
        self._pidfile().write_text(str(os.getpid()))
        updates: dict = {"run_dir": self.run_dir}
        if self.embedded_broker:
            port = free_port()
            self.broker = start_broker(port, self.logs / "broker.log")
            updates["kafka_bootstrap_servers"] = f"127.0.0.1:{port}"
        for name in ("ingest", "portfolio", "alerts", "aq"):
            url = self.settings.url_of(name)
            if port_open("127.0.0.1", int(url.rsplit(":", 1)[1])):
                updates[f"{name}_url"] = f"http://127.0.0.1:{free_port()}"
        self.settings = self.settings.model_copy(update=updates)
        _ = self.settings.jwt_key, self.settings.internal_key  # create both secrets before any child reads them
        for name in SERVICES:
            if name != "gateway":
                db.upgrade(name, self.settings.database_url_for(name))
        asyncio.run(ensure_topics(self.settings))
        self.env = {
            **os.environ, **self.extra_env,
            "RUN_DIR": str(self.run_dir),
            "KAFKA_BOOTSTRAP_SERVERS": self.settings.kafka_bootstrap_servers,
            "GATEWAY_PORT": str(self.settings.gateway_port),
            "GATEWAY_HOST": self.settings.gateway_host,
            **{f"{n.upper()}_URL": self.settings.url_of(n) for n in ("ingest", "portfolio", "alerts", "aq")},
        }

    def start_service(self, name: str) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "meterstream.cli", "service", name],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def start(self, services: tuple[str, ...] = SERVICES) -> None:
        self.prepare()
        for name in services:
            self.start_service(name)

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until the gateway's /readyz (bus, cache, every service and database) says ok."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise StackError(f"{name} exited with {proc.returncode}; see {self.logs / (name + '.log')}")
            try:
                r = httpx.get(f"{self.gateway_url}/readyz", timeout=5)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.5)
        raise StackError(f"not ready after {timeout:.0f} s: {last}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        proc.send_signal(sig)
        proc.wait(timeout=30)

    def stop(self) -> None:
        """Stop every service (SIGTERM, then SIGKILL after 15 s), then the broker."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.procs.values(), *([self.broker] if self.broker else [])]:
            if proc is self.broker and proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        self.broker = None
        if self._pidfile().exists() and self._pidfile().read_text() == str(os.getpid()):
            self._pidfile().unlink()
