"""A training step's forward and backward recorded once as a CUDA graph, then replayed.

A keypoint model is small, so its step is bound by the host launching hundreds of kernels
(augmentation, forward, loss, backward), not by the GPU running them. Replaying a recorded graph
launches them all at once. PyTorch's recipe for whole-network capture is followed: warm-up
iterations on a side stream (which also compile a ``torch.compile``d step), then capture with
autocast's weight cache off. Random draws inside the graph advance with each replay.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

WARM_UP_STEPS = 3


class GraphedBackward:
    """``loss_fn(*batch)`` and the gradients of ``module``'s parameters, by graph replay.

    Each call copies the batch into the graph's inputs, replays, and returns the loss tensor,
    which the next call overwrites. The gradients are written into the same tensors at every
    replay, never accumulated, and handed back to the parameters after it: Lightning frees
    them (``zero_grad``) before each validation."""

    def __init__(self, loss_fn: Callable[..., Tensor], module: nn.Module):
        self.loss_fn, self.module = loss_fn, module
        self.graph: torch.cuda.CUDAGraph | None = None

    def __call__(self, *batch: Tensor) -> Tensor:
        if self.graph is None:
            self._record(batch)
        for static, new in zip(self.inputs, batch):
            static.copy_(new, non_blocking=True)
        self.graph.replay()
        for parameter, gradient in self.gradients:
            parameter.grad = gradient
        return self.loss

    def _record(self, batch: tuple[Tensor, ...]) -> None:
        self.inputs = tuple(t.clone() for t in batch)
        # Warm-up must not train: running statistics are restored, and no optimizer step is taken.
        buffers = [b.clone() for b in self.module.buffers()]
        autocast = torch.autocast("cuda", dtype=torch.get_autocast_dtype("cuda"),
                                  enabled=torch.is_autocast_enabled("cuda"), cache_enabled=False)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), autocast:
            for _ in range(WARM_UP_STEPS):
                self.module.zero_grad(set_to_none=True)
                self.loss_fn(*self.inputs).backward()
        torch.cuda.current_stream().wait_stream(side)
        with torch.no_grad():
            for buffer, saved in zip(self.module.buffers(), buffers):
                buffer.copy_(saved)
        self.module.zero_grad(set_to_none=True)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph), autocast:
            self.loss = self.loss_fn(*self.inputs)
            self.loss.backward()
        self.gradients = [(p, p.grad) for p in self.module.parameters() if p.grad is not None]
