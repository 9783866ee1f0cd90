"""Run evroam nodes and commands as real processes on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from evroam.store import open_store
from evroam.store.interface import ListQuery


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def node_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}
    env.update(extra)
    return env


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll `check` until it returns something truthy (the nodes work in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class ChildProcess:
    """An `evroam` command running in a child process, its output appended to a log file."""

    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def launch(self, args: list[str], env: dict[str, str], ready: Callable[[], bool], timeout: float) -> None:
        """Start `args` and wait until `ready()` (failing with the log if the process ends first)."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"evroam {args[3]} exited early:\n{self.log_path.read_text()}")
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"evroam {args[3]} did not start within {timeout}s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """End the process at once (SIGKILL): no shutdown, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class NodeProcess(ChildProcess):
    """`evroam serve` in a child process with its own SQLite file; output goes to a log file."""

    def __init__(
        self,
        tmp: Path,
        name: str,
        *parties: str,
        admin_token: str | None = None,
        env: dict[str, str] | None = None,
        database_url: str | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url or f"sqlite+aiosqlite:///{tmp / name}.db"
        self.log_path = tmp / f"{name}.log"
        self.parties = parties
        self.admin_token = admin_token
        self.env = dict(env or {})  # EVROAM_* settings of the node

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    def start(self, timeout: float = 30.0) -> None:
        args = [sys.executable, "-m", "evroam", "serve", "--port", str(self.port), "--dev"]
        args += ["--database-url", self.database_url, "--base-url", self.base_url]
        for party in self.parties:
            args += ["--party", party]
        extra = {**self.env, **({"EVROAM_ADMIN_TOKEN": self.admin_token} if self.admin_token else {})}

        def answering() -> bool:
            try:
                return httpx.get(self.versions_url, timeout=1).status_code == 401
            except httpx.HTTPError:
                return False

        self.launch(args, node_env(**extra), answering, timeout)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an `evroam` command against this node's database."""
        cmd = [sys.executable, "-m", "evroam", *args, "--database-url", self.database_url]
        schema = {k: v for k, v in self.env.items() if k == "EVROAM_DATABASE_SCHEMA"}
        result = subprocess.run(
            cmd, capture_output=True, text=True, env=node_env(COLUMNS="200", **schema), timeout=60, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout)

    def admin(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """A back-office API call (`/admin/api/...`) with this node's admin token."""
        assert self.admin_token, "start the node with admin_token= to use its back-office API"
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return httpx.request(method, f"{self.base_url}/admin/api{path}", json=body, headers=headers, timeout=30)

    def stored(self, module: str) -> dict[tuple[str, str, str, str], dict[str, Any]]:
        """Everything the node's database holds of a module, keyed, as JSON documents."""

        async def read() -> dict[tuple[str, str, str, str], dict[str, Any]]:
            schema = self.env.get("EVROAM_DATABASE_SCHEMA")
            connect_args = {"server_settings": {"search_path": schema}} if schema else None
            store = await open_store(self.database_url, connect_args=connect_args)
            try:
                _, rows = await store.list_objects(module, ListQuery(limit=1_000_000))
            finally:
                await store.close()
            return {(r.key.country_code, r.key.party_id, r.key.id, r.key.type): json.loads(r.data) for r in rows}

        return asyncio.run(read())


class WorkerProcess(ChildProcess):
    """`evroam worker` in a child process, on the database of `node` (with its settings)."""

    def __init__(self, node: NodeProcess, name: str) -> None:
        self.node = node
        self.log_path = node.log_path.with_name(f"{name}.log")

    def start(self, timeout: float = 30.0) -> None:
        args = [sys.executable, "-m", "evroam", "worker", "--dev", "--database-url", self.node.database_url]
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0

        def started() -> bool:
            return "delivery worker started" in self.log_path.read_text(errors="replace")[offset:]

        self.launch(args, node_env(**self.node.env), started, timeout)
