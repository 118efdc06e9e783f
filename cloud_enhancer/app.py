"""The enhancer as an HTTP service (FastAPI): POST a probe signal in the wire format, receive the filter.

Bearer-token auth, a request-size cap, strict validation with 4xx answers, micro-batching of concurrent
requests, liveness and readiness probes. Payloads are held in memory only: never written to disk or logs.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from cloud_enhancer.batching import MicroBatcher
from cloud_enhancer.enhancer import Enhancer, check_shape, encode_filter
from edge_probe import wire

#: 64 faces of int8 perturbations, deflated or not, fit well inside this.
DEFAULT_MAX_BODY = 4 * 1024 * 1024


def _check_token(request: Request, tokens: tuple[bytes, ...]) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    given = token.strip().encode()
    if not any(hmac.compare_digest(given, known) for known in tokens):
        raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    enhancer: Enhancer | Callable[[], Enhancer],
    *,
    tokens: Iterable[str],
    max_body: int = DEFAULT_MAX_BODY,
    max_batch: int = 32,
    max_wait: float = 0.005,
) -> FastAPI:
    """Build the service. ``enhancer`` may be a factory, called at start-up (readiness turns true after it)."""
    token_bytes = tuple(t.encode() for t in tokens if t)
    if not token_bytes:
        raise ValueError("the service needs at least one non-empty token")
    state: dict[str, Any] = {"enhancer": None, "batcher": None}

    def run_batch(items: list[tuple[np.ndarray, float]]) -> list[bytes]:
        """One forward pass for every queued signal; each answer encoded here, in the worker thread, off the loop."""
        counts = [values.shape[0] for values, _ in items]
        signals = np.concatenate([values for values, _ in items])
        eps = np.concatenate([np.full(n, e, dtype=np.float32) for n, (_, e) in zip(counts, items, strict=True)])
        filters = state["enhancer"].filters(signals, eps)
        return [encode_filter(f, e) for f, (_, e) in zip(np.split(filters, np.cumsum(counts)[:-1]), items, strict=True)]

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        state["enhancer"] = enhancer() if callable(enhancer) and not isinstance(enhancer, Enhancer) else enhancer
        batcher: MicroBatcher[tuple[np.ndarray, float], bytes] = MicroBatcher(run_batch, max_batch=max_batch, max_wait=max_wait)
        await batcher.start()
        state["batcher"] = app.state.batcher = batcher
        yield
        await batcher.stop()

    app = FastAPI(
        title="APF cloud enhancer",
        version="1",
        summary="Turns a probe's gradient signal into a privacy filter. Photos never reach this service.",
        lifespan=lifespan,
    )

    @app.get("/healthz", tags=["probes"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"])
    async def readyz() -> JSONResponse:
        """Readiness: the enhancer is loaded and the batcher runs."""
        ready = state["batcher"] is not None
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.post(
        "/v1/filter",
        tags=["enhancer"],
        response_class=Response,
        responses={200: {"content": {wire.MEDIA_TYPE: {}}, "description": "the filter, wire format kind=filter"}},
        openapi_extra={"requestBody": {"required": True, "content": {wire.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
    )
    async def make_filter(request: Request) -> Response:
        """Body: a wire-format *signal* message (see edge_probe/WIRE.md). Answer: the matching *filter* message."""
        _check_token(request, token_bytes)
        body = await _read_capped(request, max_body)
        try:
            message = wire.decode(body, kind="signal")
        except wire.WireFormatError as exc:
            raise HTTPException(400, f"malformed signal: {exc}") from None
        try:
            check_shape(message.values)
            payload = await state["batcher"].submit((message.values, message.eps))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return Response(payload, media_type=wire.MEDIA_TYPE, headers={"Cache-Control": "no-store"})

    return app
