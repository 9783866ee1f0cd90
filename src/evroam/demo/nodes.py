"""The demo's nodes: `evroam serve` child processes on free loopback ports, each with its own SQLite file,
reached through their back-office API and read through their stores."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from evroam.store import SqlStore, open_store
from evroam.store.interface import DeliveryAttempt, ListQuery

__all__ = ["DemoNode", "NodeFailed"]

_STARTUP_SECONDS = 30.0


class NodeFailed(Exception):
    """A node did not start, or a back-office call failed."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _inherited_env() -> dict[str, str]:
    """This process's environment without EVROAM_* settings, which would change the demo's nodes."""
    return {k: v for k, v in os.environ.items() if not k.startswith("EVROAM_")}


class DemoNode:
    """One party's node."""

    def __init__(self, name: str, party: str, folder: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.party = name, party
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite+aiosqlite:///{folder / name}.db"
        self.log_path = folder / f"{name}.log"
        self.admin_token = secrets.token_urlsafe(24)
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.store: SqlStore | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    async def start(self) -> None:
        args = [sys.executable, "-m", "evroam", "serve", "--dev", "--party", self.party, "--port", str(self.port)]
        args += ["--base-url", self.base_url, "--database-url", self.database_url, "--log-level", "warning"]
        env = {**_inherited_env(), **self.env, "EVROAM_ADMIN_TOKEN": self.admin_token}
        with self.log_path.open("ab") as log:
            # Our own interpreter and arguments; starting a process does not wait for it.
            self.process = subprocess.Popen(  # noqa: ASYNC220, S603
                args, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self._http = httpx.AsyncClient(base_url=f"{self.base_url}/admin/api", timeout=30.0)
        deadline = time.monotonic() + _STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                raise NodeFailed(
                    f"the {self.name} node exited at start ({self.process.returncode}): see {self.log_path}"
                )
            try:
                # The back office, not OCPI: the probes are no part of the traffic the demo reports.
                await self.admin("GET", "/traffic")
                break
            except (httpx.HTTPError, NodeFailed):
                pass
            if time.monotonic() > deadline:
                raise NodeFailed(
                    f"the {self.name} node did not answer within {_STARTUP_SECONDS:.0f} s: see {self.log_path}"
                )
            await asyncio.sleep(0.1)
        self.store = await open_store(self.database_url)

    async def stop(self) -> None:
        if self.store is not None:
            await self.store.close()
            self.store = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)

    async def admin(self, method: str, path: str, body: Any = None, *, expect: tuple[int, ...] = (200, 201)) -> Any:
        """A back-office call; its `data`."""
        assert self._http is not None, "the node is not started"
        response = await self._http.request(
            method, path, json=body, headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        if response.status_code not in expect:
            raise NodeFailed(
                f"{self.name}: {method} /admin/api{path} answered {response.status_code}: {response.text[:300]}"
            )
        return response.json().get("data")

    async def cli(self, *args: str, as_json: bool = True) -> Any:
        """An `evroam` command on this node's database, as an operator runs it; its --json output."""
        command = [
            sys.executable,
            "-m",
            "evroam",
            *args,
            *(["--json"] if as_json else []),
            "--database-url",
            self.database_url,
        ]
        done = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, env=_inherited_env(), timeout=60
        )
        if done.returncode != 0:
            raise NodeFailed(f"evroam {' '.join(args)} on the {self.name} node failed: {done.stderr.strip()[-300:]}")
        return json.loads(done.stdout) if as_json else done.stdout

    async def ledger(self) -> list[DeliveryAttempt]:
        """Every push the node attempted."""
        assert self.store is not None, "the node is not started"
        return await self.store.delivery_log(limit=1_000_000)

    async def objects(self, module: str) -> list[dict[str, Any]]:
        """Every object of `module` the node holds (its own and its peers')."""
        assert self.store is not None, "the node is not started"
        _, found = await self.store.list_objects(module, ListQuery(limit=1_000_000))
        return [json.loads(o.data) for o in found]
