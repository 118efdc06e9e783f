"""Export the signal computation — forward, backward and the method's update — to ONNX.

torch's ONNX exporter cannot translate ``aten.convolution_backward``. One attack step is therefore traced to plain
aten ops with ``make_fx``, decomposing each convolution's input gradient into a plain convolution (stride 1) or
``conv_transpose2d`` (and autograd's other backward ops with torch's core decompositions), and the traced graph is
exported with the dynamo exporter. The device then needs onnxruntime alone (:mod:`edge_probe.runtime`).

One step graph serves every method of :mod:`edge_probe.signal` (they differ only in hyperparameters, which are
graph inputs): with ``x = rows @ (crop + delta) @ colsᵀ`` (the identity, or DI²-FGSM's resize-and-pad),

    grad = ∇_delta [1 − cos(probe(x), reference)];  v' = momentum · v + grad / mean|grad|;
    delta' = clip(clip(delta + alpha · sign(v'), −eps, eps) + crop, 0, 1) − crop,

which is :class:`trust_core.attacks.GradientAttack`'s loop body for L∞ (MI-FGSM's L1-normalised momentum; with
momentum 0 the sign is the plain gradient's). Files: ``embed.onnx`` (crop (1, 3, 112, 112) -> embedding (1, 512)),
``signal-step.onnx`` and ``signal-graphs.json`` (defaults and DI²-FGSM's fixed schedule of draws).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edge_probe.model import EMBEDDING_DIM, INPUT_SIZE
from edge_probe.runtime import INDEX_FILE  # the index file the runtime reads
from edge_probe.signal import (DEFAULT_EPS, DEFAULT_STEPS, DIVERSITY_PROB, DIVERSITY_SCALE, DIVERSITY_SEED,
                               diversity_schedule)

#: ONNX opset of the exported graphs.
OPSET = 18
#: kernels of at most this many elements keep the transposed convolution for their input gradient: the exporter
#: folds a flipped copy of them into the file, and their convolutions are cheap either way.
SMALL_KERNEL = 8192
#: the graphs' files, by the names the index gives them.
GRAPH_FILES = {"embed": "embed.onnx", "step": "signal-step.onnx"}
STEP_INPUTS = ["crop", "delta", "velocity", "reference", "rows", "cols", "alpha", "momentum", "eps"]

aten = torch.ops.aten


def _conv_input_grad(grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed, output_padding,
                     groups, output_mask):
    """aten.convolution_backward for the input only (the weights are constants): a transposed convolution, or for
    stride 1 the same as a plain convolution with the kernel flipped and its channels swapped per group, which
    onnxruntime runs faster on a CPU."""
    if transposed or input.ndim != 4 or output_mask[1] or output_mask[2]:
        return NotImplemented
    kernel = weight.shape[-2:]
    extra = [input.shape[2 + i] - ((grad_output.shape[2 + i] - 1) * stride[i] - 2 * padding[i]
                                   + dilation[i] * (kernel[i] - 1) + 1) for i in range(2)]
    reach = [dilation[i] * (kernel[i] - 1) - padding[i] for i in range(2)]
    if any(s != 1 for s in stride) or min(reach) < 0 or weight.numel() <= SMALL_KERNEL:
        grad_input = F.conv_transpose2d(grad_output, weight, None, stride, padding, extra, groups, dilation)
    else:
        out_channels, in_per_group = weight.shape[:2]
        swapped = (weight.reshape(groups, out_channels // groups, in_per_group, *kernel).transpose(1, 2)
                   .reshape(groups * in_per_group, out_channels // groups, *kernel).flip(-2, -1))
        grad_input = F.conv2d(grad_output, swapped, None, 1, reach, dilation, groups)
    return grad_input if output_mask[0] else None, None, None


def _max_pool_input_grad(grad_output, input, kernel_size, stride, padding, dilation, ceil_mode, indices):
    """aten.max_pool2d_with_indices_backward (absent from the core decompositions) as one transposed convolution: for
    each offset (i, j) of the window, the output gradient where that offset holds the window's maximum, one channel
    per offset and input channel, placed by one-hot strided kernels (a group per input channel); overlapping windows
    add up. Ties would share the gradient; after a ReLU they sit at 0, where the ReLU passes none."""
    if any(padding) or any(d != 1 for d in dilation) or ceil_mode:
        return NotImplemented
    channels, (kh, kw), (sh, sw) = input.shape[1], kernel_size, stride or kernel_size
    (oh, ow), (ih, iw) = grad_output.shape[-2:], input.shape[-2:]
    pooled = F.max_pool2d(input, kernel_size, stride)
    routed = torch.stack([grad_output * (input[..., i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] == pooled)
                          .to(grad_output) for i in range(kh) for j in range(kw)], dim=2)  # (N, C, kh·kw, oh, ow)
    one_hot = np.zeros((channels, kh * kw, 1, kh, kw), np.float32)
    for k in range(kh * kw):
        one_hot[:, k, 0, k // kw, k % kw] = 1
    kernel = torch.from_numpy(one_hot.reshape(channels * kh * kw, 1, kh, kw)).to(input.dtype)  # a graph constant
    return F.conv_transpose2d(routed.flatten(1, 2), kernel, stride=(sh, sw), groups=channels,
                              output_padding=(ih - (sh * (oh - 1) + kh), iw - (sw * (ow - 1) + kw)))


def decompositions() -> dict:
    """torch's core aten decompositions plus the input gradients of convolution and of max pooling (the trunk
    probe's stem pools)."""
    from torch._decomp import core_aten_decompositions

    table = dict(core_aten_decompositions())
    table[aten.convolution_backward.default] = _conv_input_grad
    table[aten.max_pool2d_with_indices_backward.default] = _max_pool_input_grad
    return table


class SignalStep(nn.Module):
    """One L∞ cosine-dodging step of the gradient family (see the module docstring)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def forward(self, crop, delta, velocity, reference, rows, cols, alpha, momentum, eps):  # noqa: ANN001, ANN201
        with torch.enable_grad():
            delta = delta.detach().requires_grad_(True)
            x = rows @ (crop + delta) @ cols.transpose(0, 1)
            loss = 1.0 - F.cosine_similarity(self.model(x), reference, dim=1)
            (grad,) = torch.autograd.grad(loss.sum(), delta)
        grad = grad / grad.abs().flatten(1).mean(1).clamp_min(1e-12).view(-1, 1, 1, 1)
        velocity = momentum * velocity + grad
        delta = (delta.detach() + alpha * velocity.sign()).clamp(-eps, eps)
        return (crop + delta).clamp(0, 1) - crop, velocity


def trace_step(model: nn.Module) -> torch.fx.GraphModule:
    """:class:`SignalStep` for one face as a graph of plain aten ops (no autograd inside)."""
    from torch.fx.experimental.proxy_tensor import make_fx

    step = SignalStep(copy.deepcopy(model))
    shape = (1, 3, INPUT_SIZE, INPUT_SIZE)
    # distinct tensors: make_fx would bind one tensor passed twice to a single graph input
    example = (torch.rand(shape), torch.zeros(shape), torch.zeros(shape), F.normalize(torch.randn(1, EMBEDDING_DIM), dim=1),
               torch.eye(INPUT_SIZE), torch.eye(INPUT_SIZE), torch.tensor(0.01), torch.tensor(1.0), torch.tensor(0.03))
    return make_fx(step, decomposition_table=decompositions(), tracing_mode="real")(*example), example


def _export(module: nn.Module, args: tuple[torch.Tensor, ...], path: Path, inputs: list[str], outputs: list[str]) -> None:
    program = torch.onnx.export(module, args, dynamo=True, opset_version=OPSET, input_names=inputs,
                                output_names=outputs, external_data=False, verbose=False)
    program.optimize()
    program.save(str(path))
    _strip_metadata(path)


def _strip_metadata(path: Path) -> None:
    """Drop the exporter's per-node metadata (source stack traces): it adds 5% to the file and nothing to the graph."""
    import onnx

    graph = onnx.load(str(path))
    for node in graph.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    onnx.save(graph, str(path))


class _Embed(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, crop: torch.Tensor) -> torch.Tensor:
        return self.model(crop)


def export_graphs(model: nn.Module, out_dir: Path, *, eps: float = DEFAULT_EPS, steps: int = DEFAULT_STEPS) -> dict[str, Path]:
    """Write the probe's ONNX graphs and their index (with DI²-FGSM's draws) into ``out_dir``; returns name -> path.

    ``eps`` and ``steps`` are the defaults recorded in the index (the runtime may override both).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = copy.deepcopy(model).eval()
    paths = {name: out_dir / file for name, file in GRAPH_FILES.items()}
    with torch.no_grad():
        _export(_Embed(model), (torch.rand(1, 3, INPUT_SIZE, INPUT_SIZE),), paths["embed"], ["crop"], ["embedding"])
    graph, example = trace_step(model)
    _export(graph, example, paths["step"], STEP_INPUTS, ["delta_out", "velocity_out"])
    write_index(out_dir, eps=eps, steps=steps)
    return paths


def write_index(out_dir: Path, *, eps: float = DEFAULT_EPS, steps: int = DEFAULT_STEPS) -> Path:
    """Write the graphs' index into ``out_dir``: the defaults and DI²-FGSM's draws from :func:`diversity_schedule`
    (rerun alone when the schedule changes: the graphs take the draws as inputs, so they stay as they are)."""
    draws = [None if d is None else [d.inner, d.outer, d.top, d.left] for d in diversity_schedule(steps)]
    index = {"eps": eps, "steps": steps, "input_size": INPUT_SIZE, "embedding_dim": EMBEDDING_DIM,
             "diversity": {"prob": DIVERSITY_PROB, "scale": DIVERSITY_SCALE, "seed": DIVERSITY_SEED,
                           "draws": draws},
             "files": GRAPH_FILES}
    path = Path(out_dir) / INDEX_FILE
    path.write_text(json.dumps(index, indent=2) + "\n")
    return path
