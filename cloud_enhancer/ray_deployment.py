"""Scale-out: the same service (``create_app``) on Ray Serve, one app, enhancer and micro-batcher per replica.

Needs the ``serve`` extra (``pip install -e '.[serve]'``). Auth, size caps and validation are the app's own, so
a replica answers exactly like ``apf serve``; Serve's proxy spreads requests over the replicas.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

_LOCAL_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": a local Ray keeps its node on 127.0.0.1; read at ray's import
_preset = os.environ.get(_LOCAL_ONLY) == "0"
if not os.environ.get("RAY_ADDRESS"):
    os.environ.setdefault(_LOCAL_ONLY, "0")
#: whether init_local's node will be on loopback (else it would bind the host's outward address)
_LOOPBACK = _preset or ("ray" not in sys.modules and os.environ.get(_LOCAL_ONLY) == "0")

from ray import serve  # noqa: E402

if TYPE_CHECKING:
    from fastapi import FastAPI
    from ray.serve import Application

    from cloud_enhancer.enhancer import Enhancer

APP_NAME = "enhancer"


def deployment(
    enhancer: Callable[[], Enhancer],
    *,
    tokens: Sequence[str],
    replicas: int = 2,
    replica_cpus: float = 1.0,
    max_batch: int = 32,
    max_wait: float = 0.005,
) -> Application:
    """The Serve application; ``enhancer`` is a picklable factory that each replica calls once at start-up."""
    tokens = [t for t in tokens if t]
    if not tokens:
        raise ValueError("the service needs at least one non-empty token")
    threads = max(1, int(replica_cpus))

    def build() -> FastAPI:  # runs inside each replica
        import torch

        from cloud_enhancer.app import create_app

        torch.set_num_threads(threads)
        return create_app(enhancer, tokens=tokens, max_batch=max_batch, max_wait=max_wait)

    ingress = serve.deployment(serve.ingress(build)(), name=APP_NAME, num_replicas=replicas,
                               ray_actor_options={"num_cpus": replica_cpus})
    return ingress.bind()


def init_local(num_cpus: int | None = None) -> None:
    """Start a one-node Ray on this machine (on 127.0.0.1, see above), no dashboard, no usage reporting."""
    import ray

    if not _LOOPBACK:
        raise RuntimeError(f"ray was imported before cloud_enhancer.ray_deployment: set {_LOCAL_ONLY}=0 or import "
                           "this module first, so that the local Ray stays on 127.0.0.1")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False)


def start(app: Application, *, host: str = "127.0.0.1", port: int = 8750, blocking: bool = False) -> None:
    """Start Serve's HTTP proxy on ``host:port`` and run ``app`` at ``/`` (returns once the replicas are up).

    Without a running Ray, joins the cluster at $RAY_ADDRESS when set, else starts :func:`init_local`."""
    import ray

    if not ray.is_initialized():
        ray.init() if os.environ.get("RAY_ADDRESS") else init_local()
    serve.start(http_options={"host": host, "port": port})
    serve.run(app, name=APP_NAME, route_prefix="/", blocking=blocking)
