"""The probe: a compact MobileFaceNet-style face embedder for the user's device.

After MobileFaceNet (Chen et al., "MobileFaceNets: Efficient CNNs for Accurate Real-Time Face Verification on
Mobile Devices", CCBR 2018): a stride-2 stem, inverted-residual bottlenecks (MobileNetV2, Sandler et al., CVPR 2018),
a 1×1 expansion, a global depthwise convolution (GDC) instead of global pooling, and a linear embedding. Narrower
than the original (≈0.5 M parameters at ``scale`` 1; ``scale`` multiplies every channel count) so that it trains
on a few CPU cores; its 512-d output matches the FaceNet-CASIA teacher it is distilled from. Input: (N, 3, 112, 112)
aligned RGB crops in [0, 1]; output: L2-normalised (N, 512) embeddings.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from edge_probe.crops import INPUT_SIZE

#: embedding size (the teacher's).
EMBEDDING_DIM = 512
#: registry name of the shipped weights.
WEIGHTS_NAME = "probe-mobilefacenet"


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.ReLU(inplace=False))
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    """Inverted residual: 1×1 expand, 3×3 depthwise, 1×1 linear projection; identity shortcut when shapes match."""

    def __init__(self, cin: int, cout: int, *, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = cin * expansion
        self.body = nn.Sequential(
            _conv_bn(cin, hidden, 1),
            _conv_bn(hidden, hidden, 3, stride, groups=hidden),
            _conv_bn(hidden, cout, 1, act=False),
        )
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


class ProbeNet(nn.Module):
    """MobileFaceNet-style embedder; normalisation inside (inputs in [0, 1]), L2-normalised output."""

    #: (expansion, out channels, repeats, first stride) per stage, on a 56×56 map after the stem.
    STAGES = ((2, 48, 3, 2), (4, 64, 1, 2), (2, 64, 4, 1), (4, 96, 1, 2), (2, 96, 2, 1))
    #: stem width and the 1×1 expansion before the GDC, at ``scale`` 1.
    WIDTH, EXPAND = 48, 384

    def __init__(self, *, scale: float = 1.0, embedding_dim: int = EMBEDDING_DIM) -> None:
        super().__init__()
        if not 0 < scale <= 4:
            raise ValueError(f"scale must lie in (0, 4], got {scale}")
        channels = lambda c: max(8, round(c * scale / 8) * 8)  # noqa: E731 - multiples of 8
        width, expand = channels(self.WIDTH), channels(self.EXPAND)
        self.register_buffer("mean", torch.full((1, 3, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, 3, 1, 1), 0.5))
        layers: list[nn.Module] = [_conv_bn(3, width, 3, 2), _conv_bn(width, width, 3, groups=width)]
        cin = width
        for expansion, cout, repeats, stride in self.STAGES:
            cout = channels(cout)
            for i in range(repeats):
                layers.append(Bottleneck(cin, cout, stride=stride if i == 0 else 1, expansion=expansion))
                cin = cout
        layers.append(_conv_bn(cin, expand, 1))
        self.features = nn.Sequential(*layers)
        final = INPUT_SIZE // 16
        self.gdc = _conv_bn(expand, expand, final, groups=expand, act=False)  # global depthwise conv (7×7)
        self.gdc[0].padding = (0, 0)
        self.embedding = nn.Linear(expand, embedding_dim, bias=False)
        self.bn_out = nn.BatchNorm1d(embedding_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-3:] != (3, INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"the probe takes (N, 3, {INPUT_SIZE}, {INPUT_SIZE}) crops, got {tuple(x.shape)}")
        h = self.features((x - self.mean) / self.std)
        h = self.gdc(h).flatten(1)
        return F.normalize(self.bn_out(self.embedding(h)), dim=1)


def load_probe(folder: Path | None = None) -> ProbeNet:
    """The shipped, distilled probe in eval mode (see ``apf train probe``), at the scale its manifest records; or
    the one trained into ``folder`` (``apf train probe --out``), checked against the manifest written beside it."""
    from trust_core.models.registry import WeightsError, entries, sha256_of, weights_path

    if folder is None:
        scale, path = entries()[WEIGHTS_NAME].metrics.get("scale", 1.0), weights_path(WEIGHTS_NAME)
    else:
        manifest = Path(folder) / "manifest.json"
        if not manifest.is_file():
            raise WeightsError(f"{manifest} is missing: is {folder} a folder written by apf train probe --out?")
        entry = json.loads(manifest.read_text())[WEIGHTS_NAME]
        scale, path = entry["metrics"].get("scale", 1.0), Path(folder) / entry["file"]
        if not path.is_file() or sha256_of(path) != entry["sha256"]:
            raise WeightsError(f"{path} is missing or fails the sha256 its manifest records")
    model = ProbeNet(scale=scale)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()
