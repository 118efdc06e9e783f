"""CAPTCHA breakers — the attacker's readers the adversarial CAPTCHAs must fool.

* :class:`CRNN`: convolutional features, a bidirectional GRU and CTC (Shi et al., TPAMI 2017) — reads 4-6
  characters natively.
* :class:`MultiHeadCNN`: a CNN with one classifier per position (Goodfellow et al., ICLR 2014, multi-digit
  street numbers); class 0 is "no character", so shorter answers end in blanks.
* :class:`ConvCTC`: a fully convolutional CTC reader with residual blocks and no recurrence — held out of
  the attack ensemble to measure transfer.

All take grayscale images ``(N, 1, 32, 100)`` in [0, 1]. ``kind`` says how outputs decode: "ctc" outputs are
``(T, N, C)`` log-probabilities, "heads" outputs are ``(N, 6, C)`` logits; class 0 is the blank.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from captcha_gen.levels import ALPHABET, MAX_LENGTH

NUM_CLASSES = len(ALPHABET) + 1  # + blank
_INDEX = {c: i + 1 for i, c in enumerate(ALPHABET)}


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class CRNN(nn.Module):
    """CNN -> BiGRU -> per-column classes, trained with CTC (~0.2 M parameters)."""

    kind = "ctc"

    def __init__(self, *, hidden: int = 64) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _block(1, 16), nn.MaxPool2d(2),            # 16 x 50
            _block(16, 32), nn.MaxPool2d(2),           # 8 x 25
            _block(32, 64), _block(64, 64), nn.MaxPool2d((2, 1)),  # 4 x 25
            _block(64, 96), nn.MaxPool2d((4, 1)),     # 1 x 25
        )
        self.rnn = nn.GRU(96, hidden, bidirectional=True, batch_first=True)
        self.classifier = nn.Linear(2 * hidden, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x - 0.5).squeeze(2).transpose(1, 2)   # (N, T, 128)
        out, _ = self.rnn(f)
        return self.classifier(out).log_softmax(-1).transpose(0, 1)  # (T, N, C)


class ConvCTC(nn.Module):
    """Residual fully convolutional CTC reader (no recurrence), ~0.2 M parameters."""

    kind = "ctc"

    def __init__(self, *, width: int = 48) -> None:
        super().__init__()
        self.stem = nn.Sequential(_block(1, width // 2), nn.MaxPool2d(2), _block(width // 2, width), nn.MaxPool2d(2))
        self.res = nn.ModuleList([nn.Sequential(_block(width, width), nn.Conv2d(width, width, 3, padding=1, bias=False),
                                                nn.BatchNorm2d(width)) for _ in range(2)])
        self.head = nn.Sequential(nn.Conv2d(width, 2 * width, (8, 1), bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(inplace=True),
                                  nn.Conv2d(2 * width, 2 * width, (1, 5), padding=(0, 2)), nn.ReLU(inplace=True),
                                  nn.Conv2d(2 * width, NUM_CLASSES, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x - 0.5)
        for block in self.res:
            h = F.relu(h + block(h))
        return self.head(h).squeeze(2).permute(2, 0, 1).log_softmax(-1)  # (T, N, C)


class MultiHeadCNN(nn.Module):
    """CNN with six position heads; class 0 marks an empty position (~0.6 M parameters)."""

    kind = "heads"

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _block(1, 16), nn.MaxPool2d(2),
            _block(16, 32), nn.MaxPool2d(2),
            _block(32, 64), nn.MaxPool2d(2),
            _block(64, 96), nn.AdaptiveAvgPool2d((2, 6)),
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Dropout(0.1), nn.Linear(96 * 12, 320), nn.ReLU(inplace=True), nn.Dropout(0.1))
        self.heads = nn.Linear(320, MAX_LENGTH * NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads(self.fc(self.features(x - 0.5))).view(-1, MAX_LENGTH, NUM_CLASSES)


#: architecture name -> class; the first two form the attack ensemble, ``convctc`` is held out.
ARCHITECTURES: dict[str, type[nn.Module]] = {"crnn": CRNN, "multihead": MultiHeadCNN, "convctc": ConvCTC}
ENSEMBLE = ("crnn", "multihead")
HELD_OUT = ("convctc",)


def encode(texts: list[str]) -> torch.Tensor:
    """Answers as ``(N, 6)`` class indices (1..36), padded with the blank 0."""
    out = torch.zeros(len(texts), MAX_LENGTH, dtype=torch.long)
    for i, text in enumerate(texts):
        out[i, : len(text)] = torch.tensor([_INDEX[c] for c in text.upper()])
    return out


def texts(targets: torch.Tensor) -> list[str]:
    """The answers of encoded ``targets`` (inverse of :func:`encode`)."""
    return ["".join(ALPHABET[c - 1] for c in row if c) for row in targets.tolist()]


def decode(kind: str, outputs: torch.Tensor) -> list[str]:
    """Greedy decoding: CTC collapses repeats and drops blanks; heads read up to the first blank."""
    if kind == "ctc":
        best = outputs.argmax(-1).T.tolist()
        return ["".join(ALPHABET[c - 1] for j, c in enumerate(row) if c and (j == 0 or c != row[j - 1])) for row in best]
    if kind == "heads":
        texts = []
        for row in outputs.argmax(-1).tolist():
            chars = []
            for c in row:
                if c == 0:
                    break
                chars.append(ALPHABET[c - 1])
            texts.append("".join(chars))
        return texts
    raise ValueError(f"unknown breaker kind {kind!r}")


def string_loss(kind: str, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-sample loss of the true answers ``targets`` (from :func:`encode`): CTC, or the heads' summed CE."""
    if kind == "ctc":
        lengths = (targets > 0).sum(1)
        t, n = outputs.shape[:2]
        return F.ctc_loss(outputs, targets, torch.full((n,), t, dtype=torch.long), lengths,
                          blank=0, reduction="none", zero_infinity=True)
    if kind == "heads":
        return F.cross_entropy(outputs.transpose(1, 2), targets, reduction="none").sum(1)
    raise ValueError(f"unknown breaker kind {kind!r}")


def build(name: str) -> nn.Module:
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown breaker {name!r}; choose one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]()


def load_breaker(name: str) -> nn.Module:
    """The shipped breaker ``name`` (weights from the registry), in eval mode."""
    from trust_core.models.registry import weights_path

    model = build(name)
    model.load_state_dict(torch.load(weights_path(f"captcha_{name}"), map_location="cpu", weights_only=True))
    return model.eval()


@torch.no_grad()
def read(model: nn.Module, images: torch.Tensor, *, batch: int = 256) -> list[str]:
    """What ``model`` reads on ``images`` ``(N, 1, H, W)`` in [0, 1] (eval mode, restored)."""
    from trust_core.models.wrappers import eval_mode

    texts: list[str] = []
    with eval_mode(model):
        for i in range(0, images.shape[0], batch):
            texts += decode(model.kind, model(images[i : i + batch]))
    return texts
