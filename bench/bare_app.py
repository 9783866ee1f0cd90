"""The baseline: a bare ASGI app (no framework) answering every request with precomputed bytes.

Served by the same call `evroam serve` makes, `uvicorn.run(app, host=..., port=..., log_level=...)`, so the
difference to evroam is everything evroam does per request (routing, auth, queries, building the page)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import uvicorn


def make_app(body: bytes, headers: dict[str, str]) -> Any:
    """An ASGI app sending `body` with `headers` (and its length) to every HTTP request."""
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        + [(b"content-length", str(len(body)).encode())],
    }
    message = {"type": "http.response.body", "body": body}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send(start)
            await send(message)
            return
        while scope["type"] == "lifespan":  # nothing to set up or tear down
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True, help="file with the response body")
    parser.add_argument("--headers", type=Path, help="JSON object of response headers")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    headers = json.loads(args.headers.read_text()) if args.headers else {"content-type": "application/json"}
    app = make_app(args.body.read_bytes(), headers)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
