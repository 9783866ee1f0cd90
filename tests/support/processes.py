"""Run evroam nodes and commands as real processes on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
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


class NodeProcess:
    """`evroam serve` in a child process with its own SQLite file; output goes to a log file."""

    def __init__(
        self, tmp: Path, name: str, *parties: str, admin_token: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite+aiosqlite:///{tmp / name}.db"
        self.log_path = tmp / f"{name}.log"
        self.parties = parties
        self.admin_token = admin_token
        self.env = dict(env or {})  # EVROAM_* settings of the node
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    def start(self, timeout: float = 30.0) -> None:
        args = [sys.executable, "-m", "evroam", "serve", "--port", str(self.port), "--dev"]
        args += ["--database-url", self.database_url, "--base-url", self.base_url]
        for party in self.parties:
            args += ["--party", party]
        log = self.log_path.open("ab")
        extra = {**self.env, **({"EVROAM_ADMIN_TOKEN": self.admin_token} if self.admin_token else {})}
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=node_env(**extra))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(self.versions_url, timeout=1).status_code == 401:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"node did not start within {timeout}s:\n{self.log_path.read_text()}")

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

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an `evroam` command against this node's database."""
        cmd = [sys.executable, "-m", "evroam", *args, "--database-url", self.database_url]
        result = subprocess.run(
            cmd, capture_output=True, text=True, env=node_env(COLUMNS="200"), timeout=60, check=False
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
            store = await open_store(self.database_url)
            try:
                _, rows = await store.list_objects(module, ListQuery(limit=1_000_000))
            finally:
                await store.close()
            return {(r.key.country_code, r.key.party_id, r.key.id, r.key.type): json.loads(r.data) for r in rows}

        return asyncio.run(read())
