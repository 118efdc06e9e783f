"""The shipped breakers read the generator's CAPTCHAs; encoding and decoding are exact."""
from __future__ import annotations

import pytest
import torch

from captcha_gen.breakers import ARCHITECTURES, NUM_CLASSES, decode, encode, load_breaker, read, string_loss
from captcha_gen.train import accuracy, level_set


def test_encode_decode_round_trip() -> None:
    texts = ["AB12", "ZZ99Z", "0A0A0A"]
    targets = encode(texts)
    heads = torch.nn.functional.one_hot(targets, NUM_CLASSES).float()
    assert decode("heads", heads) == texts
    # CTC: characters separated by blanks, repeats collapsed
    frames = torch.zeros(len(texts), 13, dtype=torch.long)
    frames[:, 1::2] = targets
    frames[0, 2] = frames[0, 1]  # "AA" in a row collapses to one A
    assert decode("ctc", torch.nn.functional.one_hot(frames, NUM_CLASSES).float().transpose(0, 1)) == texts
    with pytest.raises(ValueError):
        decode("bag-of-words", heads)


def test_string_loss_prefers_truth() -> None:
    texts = ["AB12", "XYZ789"]
    targets = encode(texts)
    right = torch.nn.functional.one_hot(targets, NUM_CLASSES).float() * 20
    wrong = torch.nn.functional.one_hot(encode(["QQQQ", "QQQQQQ"]), NUM_CLASSES).float() * 20
    assert (string_loss("heads", right, targets) < string_loss("heads", wrong, targets)).all()


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_shipped_breaker_reads_easy(name: str) -> None:
    model = load_breaker(name)
    images, texts = level_set("easy", split="test", n=40)
    assert accuracy(model, images, texts) >= 0.85
    assert not model.training
    assert len(read(model, images[:2])) == 2


def test_unknown_breaker() -> None:
    with pytest.raises(ValueError, match="unknown breaker"):
        load_breaker("tesseract")


def test_fit_keeps_best_on_validation_levels() -> None:
    from captcha_gen.breakers import build
    from captcha_gen.train import fit

    model = build("convctc")
    x, t = level_set("easy", split="train", n=64)
    scores = fit(model, (x, encode(t)), {"easy": level_set("easy", split="val", n=8)}, minutes=0.005, log=lambda m: None)
    assert set(scores) == {"easy"} and 0 <= scores["easy"] <= 1 and not model.training
