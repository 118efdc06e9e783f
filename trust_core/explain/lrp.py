"""Layer-wise relevance propagation with the ε-rule (Bach et al., PLoS ONE 2015; Montavon et al., "Layer-wise
relevance propagation: an overview", 2019).

The relevance of the target logit flows back layer by layer: through Linear / Conv2d / BatchNorm / pooling,
``R_in = a ⊙ ∂/∂a[z · stop_grad(R_out / (z + ε·sign(z)))]`` (the ε-rule; max-pooling routes it winner-take-all);
ReLU, dropout and flatten pass it unchanged. The model must run its leaf modules as a chain (any functional
elementwise preprocessing before the first layer, such as normalisation, is allowed).
"""
from __future__ import annotations

import torch
from torch import nn

from trust_core.models.wrappers import eval_mode

_PASS = (nn.ReLU, nn.Dropout, nn.Flatten, nn.Identity)
_RULE = (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)


def _chain(model: nn.Module, images: torch.Tensor) -> tuple[list[tuple[nn.Module, torch.Tensor, torch.Tensor]], torch.Tensor]:
    calls: list[tuple[nn.Module, torch.Tensor, torch.Tensor]] = []
    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(lambda mod, inp, out: calls.append((mod, inp[0], out))) for m in leaves]
    try:
        with torch.no_grad():
            output = model(images)
    finally:
        for hook in hooks:
            hook.remove()
    for (_, _, previous), (module, inp, _) in zip(calls, calls[1:]):
        if inp is not previous:
            raise ValueError(f"LRP needs a chain of layers; the input of {type(module).__name__} is not the previous output")
    return calls, output


def lrp_epsilon(model: nn.Module, images: torch.Tensor, target: torch.Tensor, *, epsilon: float = 1e-6) -> torch.Tensor:
    """Pixel relevances of logit ``target`` (one class index per image); same shape as ``images``."""
    if epsilon < 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    with eval_mode(model):
        calls, output = _chain(model, images)
        relevance = torch.zeros_like(output).scatter_(1, target[:, None], output.gather(1, target[:, None]))
        with torch.enable_grad():
            for module, inp, out in reversed(calls):
                if isinstance(module, _PASS):
                    relevance = relevance.reshape(inp.shape)
                    continue
                if not isinstance(module, _RULE):
                    raise ValueError(f"LRP has no rule for {type(module).__name__}")
                a = inp.detach().requires_grad_(True)
                z = module(a)
                stabiliser = epsilon * torch.where(z >= 0, 1.0, -1.0)
                (grad,) = torch.autograd.grad(z, a, (relevance / (z + stabiliser)).detach())
                relevance = (a * grad).detach()
    return relevance.reshape(images.shape)
