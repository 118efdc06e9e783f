"""SISA training — Bourtoule, Chandrasekaran, Choquette-Choo, Jia, Travers, Zhang, Lie & Papernot, "Machine
unlearning", IEEE S&P 2021.

Sharded, Isolated, Sliced, Aggregated: the data is cut into S disjoint shards, each into R slices; one constituent
model per shard is trained incrementally (step r on slices 1..r) with a checkpoint after every step, and the
ensemble answers by majority vote. Deleting a sample retrains only its shard, from the checkpoint before the
sample's slice: the result is exactly the model trained without the sample.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from trust_core.unlearning.common import StepConfig, predictions, train_chunk


@dataclass(frozen=True)
class SisaUpdate:
    """What a deletion cost: the shards retrained, the work (samples × epochs) and the wall time."""

    shards: list[int]
    work: int
    seconds: float


class SISA:
    """The SISA ensemble over ``images``/``labels`` (contiguous shards and slices of the given order)."""

    def __init__(self, build: Callable[[], nn.Module], images: torch.Tensor, labels: torch.Tensor, *,
                 shards: int = 5, slices: int = 4, config: StepConfig = StepConfig(), seed: int = 0) -> None:
        if shards < 1 or slices < 1 or len(images) < shards * slices:
            raise ValueError(f"need shards, slices >= 1 and at least shards × slices samples, got {shards}, {slices}")
        self.build, self.images, self.labels, self.config, self.seed = build, images, labels, config, seed
        order = torch.arange(len(images))
        self.slices = [list(shard.tensor_split(slices)) for shard in order.tensor_split(shards)]
        self.deleted = torch.empty(0, dtype=torch.int64)
        #: ``checkpoints[s][r]``: shard ``s``'s state_dict after step ``r`` (step ``r`` trains on slices 0..r)
        self.checkpoints: list[list[dict[str, torch.Tensor]]] = [[] for _ in range(shards)]
        self.work = sum(self._train(s, 0) for s in range(shards))

    def _train(self, shard: int, start: int) -> int:
        """(Re)train ``shard`` from step ``start`` (from its checkpoint ``start - 1``, or a fresh model)."""
        torch.manual_seed(self.seed + 1000 * shard)
        model = self.build()
        if start:
            model.load_state_dict(self.checkpoints[shard][start - 1])
        del self.checkpoints[shard][start:]
        work = 0
        for step in range(start, len(self.slices[shard])):
            work += train_chunk(model, self.images, self.labels, torch.cat(self.slices[shard][: step + 1]),
                                self.deleted, config=self.config, t=step, seed=self.seed + 1000 * shard + step)
            self.checkpoints[shard].append(copy.deepcopy(model.state_dict()))
        return work

    def models(self) -> list[nn.Module]:
        """The constituent models (fresh modules loaded from the last checkpoints)."""
        out = []
        for shard in self.checkpoints:
            model = self.build()
            model.load_state_dict(shard[-1])
            out.append(model.eval())
        return out

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Majority vote of the constituents (ties go to the lower label)."""
        votes = torch.stack([predictions(m, images) for m in self.models()])
        return torch.nn.functional.one_hot(votes).sum(0).argmax(1)

    def unlearn(self, deleted: torch.Tensor) -> tuple[SISA, SisaUpdate]:
        """A copy without the samples at ``deleted`` (indices into the training set); only their shards retrain."""
        clone = copy.copy(self)
        clone.checkpoints = [list(c) for c in self.checkpoints]
        clone.deleted = torch.unique(torch.cat([self.deleted, deleted.long()]))
        start, work, touched = time.process_time(), 0, []
        for s, shard in enumerate(self.slices):
            hit = [r for r, part in enumerate(shard) if torch.isin(part, deleted).any()]
            if hit:
                touched.append(s)
                work += clone._train(s, hit[0])
        return clone, SisaUpdate(touched, work, time.process_time() - start)
