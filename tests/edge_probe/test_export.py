"""The ONNX route: the conv input-gradient decomposition is exact; the full export is a slow test."""
import numpy as np
import pytest
import torch
from torch import nn

from edge_probe.export import decompositions


def test_traced_gradient_with_transposed_conv_equals_autograd():
    from torch.fx.experimental.proxy_tensor import make_fx

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, 1, 2, dilation=2, groups=4),
                        nn.Conv2d(8, 4, 4, 3, 1, bias=False), nn.Flatten()).eval()
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
    other = torch.rand(1, 3, 29, 31)
    torch.testing.assert_close(traced(other), grad(other), atol=1e-5, rtol=1e-4)


@pytest.mark.slow
def test_fresh_export_matches_torch(tmp_path, probe, lfw_crops):
    from edge_probe.export import export_graphs
    from edge_probe.runtime import ProbeRuntime
    from edge_probe.signal import METHODS, compute_signal

    export_graphs(probe, tmp_path)
    runtime = ProbeRuntime(tmp_path)
    expected = compute_signal(probe, torch.from_numpy(lfw_crops[:1]), method="fgsm").numpy()
    assert np.mean(np.sign(expected) == np.sign(runtime.signal(lfw_crops[0], method="fgsm"))) >= 0.999
    for method in METHODS:  # the first step of each method (later steps: test_runtime's stepwise parity)
        expected = compute_signal(probe, torch.from_numpy(lfw_crops[:1]), method=method, steps=1).numpy()
        assert np.mean(np.sign(expected) == np.sign(runtime.signal(lfw_crops[0], method=method, steps=1))) >= 0.999
