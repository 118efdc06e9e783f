"""The filter network: budget, the table's rows, and the enhancer's input checks."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch

from cloud_enhancer.batching import MicroBatcher
from cloud_enhancer.model import APFFilter, TransferUNet, protect

EPS = 8 / 255


def test_untrained_transfer_passes_the_signal_through_and_learns_a_bounded_residual():
    torch.manual_seed(0)
    transfer = TransferUNet()
    g = torch.randn(2, 3, 112, 112).sign()
    assert torch.equal(transfer(g), g)  # training starts from row g
    with torch.no_grad():
        transfer.head.bias.fill_(0.1)
        transfer.head.weight.normal_(0, 1)
    residual = transfer(g) - g
    assert residual.shape == g.shape and residual.abs().max() <= 1 and residual.std() > 0.1


def test_filter_respects_each_budget_and_rows_differ(enhancer):
    eps = torch.tensor([EPS, EPS, 4 / 255, 4 / 255])
    g = torch.randn(4, 3, 112, 112).sign() * eps.view(-1, 1, 1, 1)
    filt = enhancer.filter
    with torch.no_grad():
        s = filt(g, eps)
        g_row = filt(g, eps, use_transfer=False, use_universal=False)
        g_hat = filt(g, eps, use_universal=False)
    assert (s.abs().flatten(1).amax(1) <= eps + 1e-7).all()
    assert torch.allclose(g_row, g)  # row g: the signal itself
    assert not torch.allclose(g_hat, s)  # û changes the filter
    faces = torch.rand(4, 3, 112, 112)
    protected = protect(faces, s)
    assert protected.min() >= 0 and protected.max() <= 1 and (protected - faces).abs().max() <= EPS + 1e-6


@pytest.mark.parametrize(
    ("signals", "eps", "message"),
    [
        (np.zeros((1, 3, 64, 64)), [EPS], "must have shape"),
        (np.zeros((2, 3, 112, 112)), [EPS], "one eps per signal"),
        (np.full((1, 3, 112, 112), np.nan), [EPS], "NaN"),
        (np.zeros((1, 3, 112, 112)), [0.5], "eps must lie in"),
        (np.full((1, 3, 112, 112), 0.2), [EPS], "exceeds its eps"),
    ],
)
def test_enhancer_rejects_bad_input(enhancer, signals, eps, message):
    with pytest.raises(ValueError, match=message):
        enhancer.filters(signals, np.array(eps))


def test_micro_batcher_groups_concurrent_items_and_propagates_errors():
    seen: list[int] = []

    def process(items: list[int]) -> list[int]:
        if -1 in items:
            raise ValueError("bad item")
        seen.append(len(items))
        return [i * 2 for i in items]

    async def scenario() -> tuple[list[int], BaseException | None]:
        batcher: MicroBatcher[int, int] = MicroBatcher(process, max_batch=8, max_wait=0.05)
        await batcher.start()
        results = await asyncio.gather(*(batcher.submit(i) for i in range(10)))
        error = None
        try:
            await batcher.submit(-1)
        except ValueError as exc:
            error = exc
        await batcher.stop()
        return list(results), error

    results, error = asyncio.run(scenario())
    assert results == [2 * i for i in range(10)]
    assert seen[0] == 8 and sum(seen) == 10
    assert isinstance(error, ValueError)
