"""The shipped ONNX graphs: sign parity with torch on real LFW faces, onnxruntime without torch, sizes, errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from edge_probe.diversity import diversity_matrix
from edge_probe.export import SignalStep
from edge_probe.runtime import MOMENTUM, ProbeRuntime, shipped_dir
from edge_probe.signal import compute_signal, diversity_schedule, reference_embeddings


@pytest.fixture(scope="module")
def runtime():
    return ProbeRuntime()


def test_fgsm_sign_parity_with_torch_on_lfw_faces(probe, runtime, lfw_crops):
    for crop in lfw_crops[:2]:
        expected = compute_signal(probe, torch.from_numpy(crop[None]), method="fgsm").numpy()
        got = runtime.signal(crop, method="fgsm")
        assert np.abs(got).max() <= 8 / 255 + 1e-6
        assert np.mean(np.sign(expected) == np.sign(got)) >= 0.999


@pytest.mark.parametrize("method", ["ifgsm", "mifgsm", "di2fgsm"])
def test_every_step_matches_torch_along_the_torch_trajectory(probe, runtime, lfw_crops, method):
    """Each exported step, fed torch's state, takes the direction torch takes (≥ 99.8% of signs; see ``apf bench probe``).

    Whole multi-step trajectories are not compared sign for sign: iterated sign steps amplify float32 rounding
    differences (two torch implementations of the same loop diverge as well); ``apf bench probe`` reports them.
    """
    crop = torch.from_numpy(lfw_crops[:1])
    reference = reference_embeddings(probe, crop)
    torch_step = SignalStep(probe)
    steps, eps = 10, 8 / 255
    draws = diversity_schedule(steps)
    delta = velocity = torch.zeros_like(crop)
    for i in range(steps):
        rows, cols = (torch.eye(112), torch.eye(112)) if method != "di2fgsm" or draws[i] is None else (
            torch.from_numpy(diversity_matrix(112, draws[i].inner, draws[i].outer, draws[i].top)),
            torch.from_numpy(diversity_matrix(112, draws[i].inner, draws[i].outer, draws[i].left)))
        got_delta, got_velocity = runtime.step(lfw_crops[:1], delta.numpy(), velocity.numpy(), reference.numpy(),
                                               method=method, index=i, eps=eps, alpha=eps / steps)
        delta, velocity = torch_step(crop, delta, velocity, reference, rows, cols, torch.tensor(eps / steps),
                                     torch.tensor(MOMENTUM[method]), torch.tensor(eps))
        assert np.mean(np.sign(got_velocity) == np.sign(velocity.numpy())) >= 0.998, i  # measured: ≥ 99.88%
        assert np.abs(got_delta - delta.numpy()).max() <= 2 * eps / steps + 1e-6


def test_torch_step_is_the_attack_loop(probe, lfw_crops):
    crop = torch.from_numpy(lfw_crops[:1])
    reference = reference_embeddings(probe, crop)
    expected = compute_signal(probe, crop, method="ifgsm", steps=2)
    zero, eye, eps = torch.zeros_like(crop), torch.eye(112), 8 / 255
    step = SignalStep(probe)
    delta, velocity = step(crop, zero, zero, reference, eye, eye, torch.tensor(eps / 2), torch.tensor(0.0), torch.tensor(eps))
    delta, _ = step(crop, delta, velocity, reference, eye, eye, torch.tensor(eps / 2), torch.tensor(0.0), torch.tensor(eps))
    assert np.mean(np.sign(np.rint(delta.numpy() / eps * 127)) == np.sign(np.rint(expected.numpy() / eps * 127))) >= 0.99


def test_embedding_and_reference_match_torch(probe, runtime, lfw_crops):
    crops = torch.from_numpy(lfw_crops)
    with torch.no_grad():
        expected = probe(crops[:1]).numpy()
    np.testing.assert_allclose(runtime.embed(lfw_crops[0]), expected, atol=1e-4)
    ref = runtime.reference(lfw_crops[0], list(lfw_crops[1:]))
    np.testing.assert_allclose(ref, reference_embeddings(probe, crops[:1], crops[1:]).numpy(), atol=1e-4)


def test_runtime_runs_without_torch(lfw_crops, tmp_path):
    np.save(tmp_path / "crop.npy", lfw_crops[0])
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np\n"
        "from edge_probe.runtime import ProbeRuntime\n"
        "from edge_probe.wire import encode, decode\n"
        "from edge_probe.client import HttpEnhancer\n"
        "from edge_probe.randomize import randomize\n"
        f"crop = np.load({str(tmp_path / 'crop.npy')!r})\n"
        "g = ProbeRuntime().signal(crop, method='fgsm')\n"
        "assert 0.2 < (np.sign(randomize(g, method='fgsm', eps=8/255, rate=0.5)) != np.sign(g)).mean() < 0.3\n"
        "msg = decode(encode(g, method='fgsm', eps=8/255))\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "print(int((msg.values > 0).sum()), int((msg.values < 0).sum()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    plus, minus = map(int, out.stdout.split())
    assert plus + minus == 3 * 112 * 112 and min(plus, minus) > 0.2 * plus


def test_shipped_index_holds_the_schedule_torch_draws():
    index = json.loads((shipped_dir() / "signal-graphs.json").read_text())
    expected = [None if d is None else [d.inner, d.outer, d.top, d.left] for d in diversity_schedule(index["steps"])]
    assert index["diversity"]["draws"] == expected


def test_shipped_graphs_are_small_and_the_probe_compact(probe):
    index = json.loads((shipped_dir() / "signal-graphs.json").read_text())
    for name in ("embed", "step"):
        assert (shipped_dir() / index["files"][name]).stat().st_size <= 6 * 2**20
    assert sum(p.numel() for p in probe.parameters()) <= 1_500_000


@pytest.mark.parametrize("crop, reason", [
    (np.zeros((3, 100, 100), np.float32), "112"), (np.full((3, 112, 112), np.nan, np.float32), "NaN"),
    (np.full((3, 112, 112), 2.0, np.float32), r"\[0, 1\]"), (np.zeros((3, 112, 112), np.uint8), "floating"),
])
def test_bad_crops_are_refused(runtime, crop, reason):
    with pytest.raises(ValueError, match=reason):
        runtime.signal(crop)


def test_bad_reference_method_eps(runtime, lfw_crops):
    with pytest.raises(ValueError, match="reference"):
        runtime.signal(lfw_crops[0], reference=np.zeros(128, np.float32))
    with pytest.raises(ValueError, match="empty"):
        runtime.signal(lfw_crops[0], references=[])
    with pytest.raises(ValueError, match="unknown method"):
        runtime.signal(lfw_crops[0], method="cw")
    with pytest.raises(ValueError, match="eps"):
        runtime.signal(lfw_crops[0], eps=3.0)
