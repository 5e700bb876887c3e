"""A TCP proxy between Airflow and the auth service that can pass, delay or drop traffic on demand.

It runs its own asyncio loop in a daemon thread, so tests (synchronous) switch its mode at any time:

- ``pass``: bytes flow both ways untouched;
- ``delay``: every chunk from the service waits ``delay_seconds`` before it reaches Airflow (a slow or
  overloaded service: Airflow's calls time out);
- ``drop``: new connections are closed at once and open ones are cut (a crashed host, a firewall
  reset): Airflow sees connection errors.

Switching mode cuts the open connections, so Airflow's pooled keep-alive connections see the new mode
on their next request instead of finishing on an old path.

It also counts the HTTP requests Airflow sends to the service (``requests_to(path)``), read from the
request lines in the traffic: what the service is asked, counted on the service's side of Airflow.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections import Counter
from typing import Literal

Mode = Literal["pass", "delay", "drop"]
CHUNK = 64 * 1024
# An HTTP/1.x request line; the path without its query string.
REQUEST_LINE = re.compile(
    rb"(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/[^ ?\r\n]*)[^ \r\n]* HTTP/1\.[01]\r\n"
)
# Bytes of one chunk kept to find a request line split across two chunks.
TAIL = 2048


class FaultProxy:
    def __init__(self, *, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.target_port = target_port
        self.port = 0
        self.mode: Mode = "pass"
        self.delay_seconds = 0.0
        self.connections = 0
        self._requests: Counter[str] = Counter()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._server = self._run(asyncio.start_server(self._handle, self.host, 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def requests_to(self, path: str, method: str = "GET") -> int:
        """How many ``method path`` requests (query string ignored) Airflow has sent since the start."""
        return self._requests[f"{method} {path}"]

    def set_mode(self, mode: Mode, *, delay_seconds: float = 0.0) -> None:
        """Switch behaviour and cut every open connection (they reconnect into the new mode)."""

        async def switch() -> None:
            self.mode, self.delay_seconds = mode, delay_seconds
            for writer in list(self._writers):
                writer.close()

        self._run(switch())

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.close()

        with contextlib.suppress(RuntimeError):
            self._run(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _run(self, coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "drop":
            client_writer.close()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            client_writer.close()
            return
        self._writers.update((client_writer, server_writer))
        try:
            await asyncio.gather(
                self._pipe(client_reader, server_writer, delayed=False, count_requests=True),
                self._pipe(server_reader, client_writer, delayed=True),
            )
        finally:
            for writer in (client_writer, server_writer):
                self._writers.discard(writer)
                writer.close()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        delayed: bool,
        count_requests: bool = False,
    ) -> None:
        tail = b""
        try:
            while chunk := await reader.read(CHUNK):
                if count_requests:
                    tail = self._count_requests(tail, chunk)
                if delayed and self.mode == "delay":
                    await asyncio.sleep(self.delay_seconds)
                if self.mode == "drop":
                    break
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def _count_requests(self, tail: bytes, chunk: bytes) -> bytes:
        """Counts the request lines in ``tail + chunk`` that end inside ``chunk`` (those ending inside
        ``tail`` were counted with the previous chunk); returns the new tail."""
        scanned = tail + chunk
        for match in REQUEST_LINE.finditer(scanned):
            if match.end() > len(tail):
                self._requests[f"{match[1].decode()} {match[2].decode()}"] += 1
        return scanned[-TAIL:]
