"""Send the probe's signal to the cloud enhancer and get the filter back.

HTTP contract (``edge_probe/WIRE.md``): ``POST {server}/v1/filter`` with ``Authorization: Bearer <token>``,
``Content-Type: application/x-apf-wire`` and a *signal* message as the body; the answer is a *filter* message
(200) or an error (4xx: the request is wrong, not retried; 5xx or no connection: retried with exponential backoff,
then :class:`EnhancerUnavailable`). Without a server, an in-process enhancer (any object with
``enhance(signal_bytes) -> filter_bytes``) does the same job on the device.
"""
from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from edge_probe.wire import MEDIA_TYPE, Message, decode

FILTER_PATH = "/v1/filter"


class EnhancerUnavailable(RuntimeError):
    """The enhancer could not be reached or kept failing after the retries."""


class EnhancerRejected(ValueError):
    """The enhancer refused the request (4xx): bad token, malformed or oversized signal."""


@runtime_checkable
class Enhancer(Protocol):
    """Turns a wire-encoded signal into a wire-encoded filter."""

    def enhance(self, signal: bytes) -> bytes: ...


class HttpEnhancer:
    """The remote enhancer over HTTP(S) with a bearer token, timeouts and retries with exponential backoff."""

    def __init__(self, server: str, *, token: str, timeout: float = 10.0, retries: int = 3, backoff: float = 0.5) -> None:
        if not server.startswith(("http://", "https://")):
            raise ValueError(f"server must be an http(s):// URL, got {server!r}")
        if not token:
            raise ValueError("a bearer token is required for a remote enhancer")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be > 0, retries and backoff >= 0")
        self.url = server.rstrip("/") + FILTER_PATH
        self.token, self.timeout, self.retries, self.backoff = token, timeout, retries, backoff

    def enhance(self, signal: bytes) -> bytes:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE}
        last = "no attempt"
        with httpx.Client(timeout=self.timeout) as client:
            for attempt in range(self.retries + 1):
                if attempt:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                try:
                    response = client.post(self.url, content=signal, headers=headers)
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                    continue
                if response.status_code == 200:
                    return response.content
                if 400 <= response.status_code < 500:
                    raise EnhancerRejected(f"enhancer at {self.url} refused the signal: "
                                           f"HTTP {response.status_code} {response.text[:200]}")
                last = f"HTTP {response.status_code}"
        raise EnhancerUnavailable(f"enhancer at {self.url} unavailable after {self.retries + 1} attempts ({last})")


def request_filter(signal: bytes, enhancer: Enhancer) -> Message:
    """Send ``signal`` to ``enhancer`` and decode the filter it answers (strictly)."""
    if not isinstance(enhancer, Enhancer):
        raise TypeError(f"enhancer must have enhance(bytes) -> bytes, got {type(enhancer).__name__}")
    return decode(enhancer.enhance(signal), kind="filter")
