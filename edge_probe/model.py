"""The probe: a compact MobileFaceNet-style face embedder for the user's device.

After MobileFaceNet (Chen et al., "MobileFaceNets: Efficient CNNs for Accurate Real-Time Face Verification on
Mobile Devices", CCBR 2018): a stride-2 stem, inverted-residual bottlenecks (MobileNetV2, Sandler et al., CVPR 2018),
a 1×1 expansion, a global depthwise convolution (GDC) instead of global pooling, and a linear embedding. Narrower
than the original (≈0.5 M parameters at ``scale`` 1; ``scale`` multiplies every channel count) so that it trains
on a few CPU cores; its 512-d output matches the FaceNet-CASIA teacher it is distilled from. Input: (N, 3, 112, 112)
aligned RGB crops in [0, 1]; output: L2-normalised (N, 512) embeddings.

:class:`TrunkProbe` (``arch`` "facenet-trunk") shares the standard recognizer's first layers instead: FaceNet-CASIA's
stem and its five Inception-ResNet-A blocks (1.0 M parameters, frozen, as published by Sandberg) under a
MobileFaceNet-style head (depthwise-separable convolutions, GDC, linear embedding; 0.40 M parameters) distilled
from the rest of the network. What the probe's gradient passes through first is then the standard recognizer's own
early Jacobian, which is what makes its signal transfer. The shipped probe is a :class:`TrunkProbe`.
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
WEIGHTS_NAME = "probe"
#: probe architectures by the name a manifest records (``metrics["arch"]``; absent: "mobilefacenet").
ARCHITECTURES = ("mobilefacenet", "facenet-trunk")


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True,
             prelu: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.PReLU(cout) if prelu else nn.ReLU(inplace=False))
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


class TrunkHead(nn.Module):
    """The trained part of :class:`TrunkProbe`: (N, 256, 17, 17) Inception-ResNet-A features -> unit embeddings."""

    def __init__(self, *, width: int = 256, expand: int = 320, embedding_dim: int = EMBEDDING_DIM) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv_bn(TrunkProbe.TRUNK_CHANNELS, TrunkProbe.TRUNK_CHANNELS, 3, 2, TrunkProbe.TRUNK_CHANNELS, prelu=True),
            _conv_bn(TrunkProbe.TRUNK_CHANNELS, width, 1, prelu=True),  # 17 -> 9
            _conv_bn(width, width, 3, 1, width, prelu=True), _conv_bn(width, width, 1, prelu=True),
            _conv_bn(width, width, 3, 2, width, prelu=True), _conv_bn(width, expand, 1, prelu=True),  # 9 -> 5
        )
        self.gdc = _conv_bn(expand, expand, 5, groups=expand, act=False)
        self.gdc[0].padding = (0, 0)
        self.embedding = nn.Linear(expand, embedding_dim, bias=False)
        self.bn_out = nn.BatchNorm1d(embedding_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        h = self.gdc(self.body(features)).flatten(1)
        return F.normalize(self.bn_out(self.embedding(h)), dim=1)


class TrunkProbe(nn.Module):
    """FaceNet-CASIA's frozen stem + Inception-ResNet-A blocks under a distilled :class:`TrunkHead`.

    The 112-px view is resized to FaceNet's 160 px by two constant bilinear matrices (exportable, like DI²-FGSM's
    draws) and standardised as FaceNet is. ``trunk`` holds facenet-pytorch's modules; their weights travel in this
    probe's own state dict (``from_teacher`` copies them from FaceNet-CASIA once, at training time)."""

    #: channels of the trunk's (N, 256, 17, 17) output, and FaceNet's input side.
    TRUNK_CHANNELS, TEACHER_SIZE = 256, 160

    def __init__(self) -> None:
        super().__init__()
        from facenet_pytorch.models.inception_resnet_v1 import BasicConv2d, Block35

        from edge_probe.diversity import bilinear_matrix
        from trust_core.faces.facenet_casia import FixedStandardization

        self.register_buffer("resize", torch.from_numpy(bilinear_matrix(INPUT_SIZE, self.TEACHER_SIZE)))
        self.standardize = FixedStandardization()  # no state: the state dict holds the trunk and head alone
        self.trunk = nn.Sequential(
            BasicConv2d(3, 32, kernel_size=3, stride=2), BasicConv2d(32, 32, kernel_size=3, stride=1),
            BasicConv2d(32, 64, kernel_size=3, stride=1, padding=1), nn.MaxPool2d(3, stride=2),
            BasicConv2d(64, 80, kernel_size=1, stride=1), BasicConv2d(80, 192, kernel_size=3, stride=1),
            BasicConv2d(192, 256, kernel_size=3, stride=2), *(Block35(scale=0.17) for _ in range(5)),
        )
        self.trunk.requires_grad_(False).eval()  # frozen, batch norm included (see train)
        self.head = TrunkHead()

    def from_teacher(self, teacher: nn.Module) -> "TrunkProbe":
        """Copy the trunk's weights from facenet-pytorch's ``InceptionResnetV1`` ``teacher`` (FaceNet-CASIA)."""
        layers = [teacher.conv2d_1a, teacher.conv2d_2a, teacher.conv2d_2b, teacher.maxpool_3a, teacher.conv2d_3b,
                  teacher.conv2d_4a, teacher.conv2d_4b, *teacher.repeat_1]
        for mine, theirs in zip(self.trunk, layers, strict=True):
            mine.load_state_dict(theirs.state_dict())
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The frozen trunk's (N, 256, 17, 17) features of (N, 3, 112, 112) crops in [0, 1]."""
        if x.shape[-3:] != (3, INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"the probe takes (N, 3, {INPUT_SIZE}, {INPUT_SIZE}) crops, got {tuple(x.shape)}")
        return self.trunk(self.standardize(self.resize @ x @ self.resize.transpose(0, 1)))

    def train(self, mode: bool = True) -> "TrunkProbe":
        super().train(mode)
        self.trunk.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def build_probe(arch: str = "mobilefacenet", *, scale: float = 1.0) -> nn.Module:
    """An untrained probe of architecture ``arch`` (one of :data:`ARCHITECTURES`); ``scale`` is MobileFaceNet's."""
    if arch == "mobilefacenet":
        return ProbeNet(scale=scale)
    if arch == "facenet-trunk":
        if scale != 1:
            raise ValueError("scale applies to the mobilefacenet probe only")
        return TrunkProbe()
    raise ValueError(f"unknown probe architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")


def probe_weights(folder: Path | None = None) -> tuple[dict, Path]:
    """(manifest metrics, weights file) of the shipped probe, or of the one trained into ``folder`` (``apf train probe
    --out``), whose file is checked against the manifest written beside it."""
    from trust_core.models.registry import WeightsError, entries, sha256_of, weights_path

    if folder is None:
        return entries()[WEIGHTS_NAME].metrics, weights_path(WEIGHTS_NAME)
    manifest = Path(folder) / "manifest.json"
    if not manifest.is_file():
        raise WeightsError(f"{manifest} is missing: is {folder} a folder written by apf train probe --out?")
    entry = json.loads(manifest.read_text())[WEIGHTS_NAME]
    path = Path(folder) / entry["file"]
    if not path.is_file() or sha256_of(path) != entry["sha256"]:
        raise WeightsError(f"{path} is missing or fails the sha256 its manifest records")
    return entry["metrics"], path


def load_probe(folder: Path | None = None) -> nn.Module:
    """The probe of :func:`probe_weights` (shipped, or trained into ``folder``) in eval mode, of the architecture and
    scale its manifest records."""
    metrics, path = probe_weights(folder)
    model = build_probe(metrics.get("arch", "mobilefacenet"), scale=metrics.get("scale", 1.0))
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()
