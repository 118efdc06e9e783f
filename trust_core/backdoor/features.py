"""Hidden representations for the data-inspection defenses: the input of a layer, captured with a forward hook."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from trust_core.models.wrappers import eval_mode


def last_linear(model: nn.Module) -> nn.Linear:
    """The model's last ``nn.Linear`` (its input is the penultimate representation)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model has no nn.Linear layer; pass the layer whose input to use")
    return linears[-1]


def capture(model: nn.Module, layer: nn.Module, images: torch.Tensor, pick: Callable[[tuple[torch.Tensor, ...], torch.Tensor], torch.Tensor],
            *, batch: int = 1000) -> list[torch.Tensor]:
    """``pick(layer_inputs, layer_output)`` for each batch of ``images``, run through ``model`` in eval mode."""
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, inputs, out: captured.append(pick(inputs, out).detach()))
    try:
        with eval_mode(model), torch.no_grad():
            for i in range(0, len(images), batch):
                model(images[i : i + batch])
    finally:
        handle.remove()
    return captured


def layer_inputs(model: nn.Module, images: torch.Tensor, *, layer: nn.Module | None = None, batch: int = 1000) -> torch.Tensor:
    """Flattened inputs of ``layer`` (default: the last linear layer) for every image, in eval mode."""
    layer = layer if layer is not None else last_linear(model)
    return torch.cat(capture(model, layer, images, lambda inputs, _out: inputs[0].flatten(1), batch=batch))


def hidden(model: nn.Module, images: torch.Tensor, *, layer: nn.Module | None = None) -> torch.Tensor:
    """Differentiable inputs of ``layer`` (default: the last linear layer): the feature map attacks optimise against."""
    layer = layer if layer is not None else last_linear(model)
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].flatten(1)))
    try:
        model(images)
    finally:
        handle.remove()
    return captured[0]
