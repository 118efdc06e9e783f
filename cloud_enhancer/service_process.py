"""``apf serve`` as a child process on 127.0.0.1 and an ephemeral port, for benchmarks and black-box tests."""
from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

_RUNNING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot report an ephemeral one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """Starts ``apf serve --port 0`` (the token in its environment, no file), reads the port from its log, and
    stops it with SIGINT (then SIGKILL) on exit. ``log`` holds everything the process printed."""

    def __init__(self, *, token: str, weights: Path | None = None, max_batch: int = 32, threads: int = 2,
                 cwd: Path | None = None, env: dict[str, str] | None = None, start_timeout: float = 120.0) -> None:
        self.args = [sys.executable, "-m", "apf_desktop.cli", "serve", "--port", "0", "--max-batch", str(max_batch)]
        if weights is not None:
            self.args += ["--weights", str(weights)]
        self.env = {**os.environ, **(env or {}), "APF_SERVER_TOKEN": token, "OMP_NUM_THREADS": str(threads),
                    "PYTHONUNBUFFERED": "1"}
        self.cwd, self.start_timeout = cwd, start_timeout
        self.url = ""
        self._lines: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def log(self) -> str:
        return "".join(self._lines)

    def __enter__(self) -> ServiceProcess:
        self._proc = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.url:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"apf serve did not start:\n{self.log[-4000:]}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._proc = None

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.append(line)
            if not self.url and (match := _RUNNING.search(line)):
                self.url = match.group(1)


def payload_leaked(payloads: list[bytes], text: str) -> bool:
    """Whether a 30-byte chunk of any payload (past its 24-byte wire header) shows in ``text`` raw, as hex or as
    base64 (of the message from its start: 24 and 30 are multiples of 3, so the chunk's base64 is a substring)."""
    chunks = [p[24:54] for p in payloads]
    return any(form in text for c in chunks for form in (c.hex(), base64.b64encode(c).decode(), repr(c)[2:-1]))
