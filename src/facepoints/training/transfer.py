"""Start a model from a trained one (`train --init`): the encoder always, the head where points map.

The face model's encoder already knows faces; a user's points that sit where the source's points
sit (schemes.mapping_matrix: a built-in mapping, or a scheme file's "near" ibug68 points) also
start from the source's head rows for those points, averaged as the mapping averages points.
"""

from __future__ import annotations

import torch
from pytorch_lightning.callbacks import BaseFinetuning
from torch import nn

from facepoints.data import KeypointSet
from facepoints.errors import FacepointsError
from facepoints.schemes import Scheme, mapping_matrix
from facepoints.training.config import TrainConfig
from facepoints.training.weights import TrainedWeights

# The children of a network that turn features into points; everything else is its encoder.
HEAD_MODULES = ("head", "out")


def encoder_modules(network: nn.Module) -> list[nn.Module]:
    return [child for name, child in network.named_children() if name not in HEAD_MODULES]


def finetune_config(config: TrainConfig, source: TrainedWeights) -> TrainConfig:
    """``config`` with the source's architecture: its weights must fit the new model."""
    if config.model != source.config.model and config.model != TrainConfig.model:
        raise FacepointsError(f"--init {config.init}: its weights are a {source.config.model} model, "
                              f"not {config.model}; leave out --model")
    return config.but(model=source.config.model, model_cfg=source.config.model_cfg)


def check_fits(source: TrainedWeights, data: KeypointSet) -> None:
    """The data's crops must be the crops the source model was trained on."""
    record = source.record
    if (record.image_size, record.channels) != (data.image_size, data.channels) or record.framing != data.framing:
        raise FacepointsError(
            f"--init {source.path}: the model takes {record.image_size[1]} px {record.channels}-channel crops "
            f"framed as {record.framing.size} px photo crops; {data.source} gives {data.image_size[1]} px "
            f"{data.channels}-channel crops")


def start_from(network: nn.Module, source: TrainedWeights, scheme: Scheme) -> int:
    """Load ``source``'s weights into ``network`` (same architecture, any scheme); return how
    many of ``scheme``'s points start from the source's head."""
    trained = next(m for m in source.predictor().modules() if hasattr(m, "num_keypoints")).state_dict()
    target = network.state_dict()
    try:
        weights = torch.from_numpy(mapping_matrix(source.scheme.name, scheme.name))
    except ValueError:  # no mapping: the head starts afresh
        weights = None
    for key, value in target.items():
        if key.split(".")[0] not in HEAD_MODULES:
            if trained.get(key) is None or trained[key].shape != value.shape:
                raise FacepointsError(f"--init {source.path}: its weights do not fit the new model ({key})")
            target[key] = trained[key]
        elif weights is not None and key in trained and _per_point(trained[key], source.scheme.num_keypoints):
            rows = trained[key].reshape(source.scheme.num_keypoints, -1)
            target[key] = (weights @ rows.float()).reshape(value.shape).to(value.dtype)
        elif key in trained and trained[key].shape == value.shape:  # hidden dense layers
            target[key] = trained[key]
    network.load_state_dict(target)
    return 0 if weights is None else int(len(weights))


def _per_point(tensor: torch.Tensor, num_keypoints: int) -> bool:
    """A head tensor with one slice per point (heatmap channels) or per coordinate (x, y rows)."""
    return tensor.ndim >= 1 and tensor.shape[0] in (num_keypoints, 2 * num_keypoints)


class FrozenEncoder(BaseFinetuning):
    """The encoder frozen for the first ``epochs`` of fine-tuning, so a fresh head does not send
    large gradients through it; then trained at a tenth of the head's learning rate (Lightning's
    ``unfreeze_and_add_param_group``), on the head's schedule."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def freeze_before_training(self, pl_module) -> None:
        self.freeze(encoder_modules(pl_module.model), train_bn=False)

    def finetune_function(self, pl_module, epoch: int, optimizer) -> None:
        if epoch == self.epochs:
            self.unfreeze_and_add_param_group(encoder_modules(pl_module.model), optimizer, train_bn=False)
            for config in pl_module.trainer.lr_scheduler_configs:  # the new group follows the schedule
                scheduler = config.scheduler
                scheduler.base_lrs.append(scheduler.base_lrs[0] / 10)
                scheduler.lr_lambdas.append(scheduler.lr_lambdas[0])
            pl_module.on_fit_start()  # the step is rebuilt (compiled, captured) for the new parameters
