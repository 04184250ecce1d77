"""The LightningModule: augmentation on the device, masked loss, learned label origin."""

from __future__ import annotations

import math
import time

import pytorch_lightning as pl
import torch
import torchmetrics
from torch import nn
from torch.utils._triton import has_triton

from facepoints.training.config import TrainConfig
from facepoints.training.graphed import GraphedBackward
from facepoints.transforms import AUGMENT_PRESETS, augment_batch


def to_model_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W) or (N, H, W, C) -> float (N, C, H, W) in [0, 1]."""
    images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
    return images.float().div_(255.0)


def masked_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean loss over labelled coordinates only: a missing keypoint contributes nothing."""
    diff = (pred.float() - target) * mask[..., None]
    per_coord = diff.abs() if kind == "l1" else diff.square()
    return per_coord.sum() / (2 * mask.sum()).clamp(min=1)


def compiles_by_default(device_type: str) -> bool:
    """Compile the step on GPUs, and only where Triton (inductor's GPU compiler) is installed."""
    return device_type == "cuda" and has_triton()


def graphs_apply(device_type: str, world_size: int) -> bool:
    """A step can be replayed as a CUDA graph on one GPU; data-parallel steps all-reduce gradients
    during the backward pass, which a plain graph capture cannot hold."""
    return device_type == "cuda" and world_size == 1


class MaskedRMSE(torchmetrics.Metric):
    """Kaggle RMSE over labelled coordinates, summed across batches and ranks before the root."""

    def __init__(self):
        super().__init__()
        self.add_state("squared", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> None:
        self.squared += (((pred.float() - target) ** 2) * mask[..., None]).sum().double()
        self.count += 2 * mask.sum()

    def compute(self) -> torch.Tensor:
        return (self.squared / self.count.clamp(min=1)).sqrt().float()


class KeypointModule(pl.LightningModule):
    def __init__(self, model: nn.Module, config: TrainConfig, flip_permutation, heads: nn.Module | None = None):
        """flip_permutation: of the labels' scheme; heads: the model's points -> the labels' schemes
        (training/heads.py), where a set mixes schemes."""
        super().__init__()
        self.model = model
        self.heads = heads or nn.Identity()
        self.config = config
        self.augment = AUGMENT_PRESETS[config.augment]
        self.register_buffer("flip_permutation", torch.as_tensor(flip_permutation, dtype=torch.long))
        # Where the labels' origin sits relative to pixel centres, in pixels on both axes.
        self.label_offset = nn.Parameter(torch.zeros(()), requires_grad=config.learn_label_offset)
        self.val_rmse = MaskedRMSE()
        # The step runs its own backward and optimizer step: a graph replay computes the
        # gradients, and Lightning's automatic loop would zero them.
        self.automatic_optimization = False

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)

    def augmented(self, images: torch.Tensor, points: torch.Tensor, mask: torch.Tensor):
        """A raw batch augmented on its device, in float32 even under mixed precision: warped in
        bf16, whose 8 significant bits space values near 90 px 0.5 px apart, labels moved and
        images no longer matched them."""
        with torch.autocast(images.device.type, enabled=False):
            return augment_batch(
                to_model_input(images), points, mask, self.augment, self.flip_permutation,
                origin_offset=self.label_offset,
            )

    def augmented_loss(self, images: torch.Tensor, points: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Augment a raw batch and score the model on it: one training step's work."""
        images, points, mask = self.augmented(images, points, mask)
        return masked_loss(self.heads(self.model(images)), points, mask, self.config.loss)

    def on_fit_start(self):
        config = self.config
        compile_step = config.compile if config.compile is not None else compiles_by_default(self.device.type)
        # Fixed shapes (training batches drop their remainder), so one graph serves every step.
        loss_fn = torch.compile(self.augmented_loss, dynamic=False) if compile_step else self.augmented_loss
        graph = config.graph and graphs_apply(self.device.type, self.trainer.world_size)
        self._loss_and_gradients = GraphedBackward(loss_fn, self) if graph else self._backward(loss_fn)
        self._loss_sum = torch.zeros((), device=self.device)

    def _backward(self, loss_fn):
        def loss_and_gradients(*batch):
            self.zero_grad(set_to_none=True)
            loss = loss_fn(*batch)
            self.manual_backward(loss)
            return loss
        return loss_and_gradients

    def _clock(self) -> float:
        """Seconds, once the GPU has finished what is queued: else a GPU-bound epoch reads short."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def on_train_epoch_start(self):
        self._epoch_started, self._epoch_images, self._epoch_steps = self._clock(), 0, 0
        self._loss_sum.zero_()

    def training_step(self, batch, batch_idx):
        images, points, mask = batch
        loss = self._loss_and_gradients(images, points, mask)
        self.optimizers().step()
        scheduler = self.lr_schedulers()
        if scheduler is not None:
            scheduler.step()
        # Summed on the device and logged once an epoch: a per-step log costs host time.
        self._loss_sum += loss.detach()
        self._epoch_images += len(images)
        self._epoch_steps += 1

    def validation_step(self, batch, batch_idx):
        images, points, mask = batch
        self.val_rmse.update(self.heads(self.model(to_model_input(images))), points, mask)
        self.log("val_rmse", self.val_rmse, on_step=False, on_epoch=True, prog_bar=True)

    def on_train_epoch_end(self):
        self.log("train_loss", self._loss_sum / max(1, self._epoch_steps), sync_dist=True)
        self.log("label_offset", self.label_offset.detach(), sync_dist=True)
        # Training throughput of all ranks together, augmentation included.
        seconds = self._clock() - self._epoch_started
        self.log("images_per_second", self._epoch_images * self.trainer.world_size / seconds, rank_zero_only=True)

    def configure_optimizers(self):
        cfg = self.config
        params = [p for p in self.parameters() if p.requires_grad]
        # One fused kernel for every parameter on a GPU instead of a dozen launches per tensor.
        fused = all(p.is_cuda for p in params) or None
        kind = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
        optimizer = kind(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
        if cfg.schedule == "constant":
            return optimizer
        total = max(1, self.trainer.estimated_stepping_batches)
        warmup = min(500, int(total * cfg.warmup))

        def cosine_with_warmup(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
