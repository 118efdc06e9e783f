"""The enhancer on Ray Serve with 2 replicas: same filter as the embedded enhancer, same auth, over loopback HTTP."""
from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch

if importlib.util.find_spec("ray") is None:
    pytest.skip("ray[serve] is not installed (pip install -e '.[serve]')", allow_module_level=True)

from cloud_enhancer.ray_deployment import APP_NAME, deployment, init_local, start  # noqa: E402  (before ray)
import ray  # noqa: E402
from ray import serve  # noqa: E402

from cloud_enhancer.bench import EPS, signal_bodies  # noqa: E402
from cloud_enhancer.cli import load_enhancer  # noqa: E402
from cloud_enhancer.service_process import free_port, payload_leaked  # noqa: E402
from edge_probe import wire  # noqa: E402

TOKEN = "ray-token-789"


@pytest.fixture(scope="module")
def ray_service(enhancer, tmp_path_factory):
    weights = tmp_path_factory.mktemp("ray") / "apf_filter.pt"
    torch.save(enhancer.filter.state_dict(), weights)
    init_local(num_cpus=2)
    try:
        port = free_port()
        start(deployment(functools.partial(load_enhancer, weights), tokens=[TOKEN], replicas=2, max_wait=0.02), port=port)
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()


def test_two_replicas_on_loopback_serve_the_embedded_enhancers_filter(ray_service, enhancer):
    assert all(node["NodeManagerAddress"] == "127.0.0.1" for node in ray.nodes())
    assert serve.status().applications[APP_NAME].deployments[APP_NAME].replica_states == {"RUNNING": 2}
    bodies = signal_bodies(4)
    with httpx.Client(base_url=ray_service, timeout=60) as client:
        responses = [client.post("/v1/filter", content=b, headers={"Authorization": f"Bearer {TOKEN}"}) for b in bodies]
    assert [r.status_code for r in responses] == [200] * 4
    for body, response in zip(bodies, responses, strict=True):
        got = wire.decode(response.content, kind="filter").values
        signal = wire.decode(body, kind="signal").values
        expected = enhancer.filters(signal, np.full(1, EPS, np.float32))
        assert np.abs(got - expected).max() <= EPS / 127 + 1e-6  # int8 quantisation only
        assert np.abs(expected).mean() > EPS / 10
    context = ray.get_runtime_context()
    logs = Path(context.get_temp_dir()) / context.get_session_name() / "logs"
    text = "".join(p.read_text(errors="replace") for p in logs.rglob("*") if p.is_file())
    assert "/v1/filter" in text and not payload_leaked(bodies, text)  # Serve logs each request, never its body


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_replicas_still_require_the_token(ray_service, headers):
    response = httpx.post(ray_service + "/v1/filter", content=signal_bodies(1)[0], headers=headers, timeout=60)
    assert response.status_code == 401
    assert httpx.post(ray_service + "/v1/filter", content=b"junk", headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=60).status_code == 400


def test_a_local_ray_is_refused_when_it_could_not_stay_on_loopback():
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "RAY_ADDRESS")}
    code = "import ray\nfrom cloud_enhancer.ray_deployment import init_local\ninit_local(1)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "stays on 127.0.0.1" in result.stderr
