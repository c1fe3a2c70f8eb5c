"""Serve an ASGI app with uvicorn in a background thread (the demo's actions service, and
the servers the tests start on loopback ports)."""

from __future__ import annotations

import threading
import time
from typing import Any


class ThreadedServer:
    """`with ThreadedServer(app, "127.0.0.1", port, "name"):` serves until the block ends."""

    def __init__(self, app: Any, host: str, port: int, name: str, **config: Any) -> None:
        import uvicorn

        self.name = name
        self.url = f"http://{host}:{port}"
        options = {"log_level": "warning", **config}
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
        self._thread = threading.Thread(target=self.server.run, daemon=True, name=name)

    def start(self, timeout_s: float = 30) -> ThreadedServer:
        """Start and wait until it accepts connections; RuntimeError if it cannot."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self, timeout_s: float = 30) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=timeout_s)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
