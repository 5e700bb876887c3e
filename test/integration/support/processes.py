"""Starting, waiting for and stopping real server processes (each in its own process group)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from typing import IO, TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path


class ProcessFailedError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


def run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path, timeout: float = 120) -> str:
    """Run a command to completion; return its stdout. Stderr is appended to ``log``; failure raises."""
    started = time.monotonic()
    proc = subprocess.run(  # noqa: S603 (argv built by the suite)
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}  # exit {proc.returncode} in {time.monotonic() - started:.1f}s\n")
        out.write(proc.stderr)
    if proc.returncode != 0:
        raise ProcessFailedError(
            f"{' '.join(argv)} exited with {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\n"
            f"stderr:\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


class ManagedProcess:
    """A long-running server started in a new session, so stopping it kills its whole process group."""

    def __init__(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def start(self) -> ManagedProcess:
        self._log_file = self.log.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 (argv built by the suite)
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_http(
        self, url: str, *, timeout: float, ready: Callable[[httpx.Response], bool] | None = None
    ) -> float:
        """Poll ``url`` until it answers 200 (and ``ready``); return the seconds it took."""
        assert self.proc is not None, "start() first"
        started = time.monotonic()
        last_error = "no answer yet"
        with httpx.Client(timeout=2) as client:
            while time.monotonic() - started < timeout:
                if self.proc.poll() is not None:
                    raise ProcessFailedError(
                        f"{self.name} exited with {self.proc.returncode} before {url} answered\n"
                        f"--- {self.log} ---\n{tail(self.log)}"
                    )
                try:
                    response = client.get(url)
                    if response.status_code == 200 and (ready is None or ready(response)):
                        return time.monotonic() - started
                    last_error = f"HTTP {response.status_code}"
                except httpx.HTTPError as err:
                    last_error = repr(err)
                time.sleep(0.2)
        raise ProcessFailedError(
            f"{self.name}: {url} not ready after {timeout:.0f}s ({last_error})\n"
            f"--- {self.log} ---\n{tail(self.log)}"
        )

    def stop(self, grace: float = 10) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after ``grace`` seconds."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the leader's pid is the group id
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and (self.proc.poll() is None or _group_alive(pgid)):
            time.sleep(0.1)
        if self.proc.poll() is None or _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
        self.proc = None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
