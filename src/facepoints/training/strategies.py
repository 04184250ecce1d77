"""Missing-keypoint strategies: how rows that label only some keypoints are used.

Imputers fill the training rows before one fit; ``pseudo`` fills them from a first model's
predictions; ``split`` is the seed notebooks' pair of models; ``masked`` learns from every
labelled coordinate and ignores the rest. Validation always scores the real labels only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from facepoints.data import KeypointSet
from facepoints.data.missing import IMPUTERS, drop_incomplete
from facepoints.data.mixed import StackedScheme
from facepoints.errors import FacepointsError
from facepoints.models.wrappers import CorePlusFull, Ensemble, FlipAveraged
from facepoints.training.config import TrainConfig
from facepoints.training.fit import fit_module
from facepoints.training.heads import SchemeHeads
from facepoints.training.module import KeypointModule, to_model_input
from facepoints.training.progress import TrainingProgress


def predictor_of(module: KeypointModule, config: TrainConfig) -> nn.Module:
    """The inference graph of one trained module: the bare model, or flip-averaged. A model
    trained on mixed schemes carries its learned mappings (``scheme_mappings``) to the others."""
    heads = module.heads if isinstance(module.heads, SchemeHeads) else None
    if not config.flip_tta:
        predictor = module.model
    else:
        permutation = heads.target_flip if heads is not None else module.flip_permutation
        predictor = FlipAveraged(module.model, permutation.cpu(), float(module.label_offset.detach()))
    if heads is not None:
        predictor.scheme_mappings = heads.mappings()
    return predictor


@torch.no_grad()
def predict(predictor: nn.Module, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """uint8 images -> (N, K, 2) float32 predictions, on the predictor's device."""
    predictor.eval()
    device = next(predictor.parameters()).device
    out = [
        predictor(to_model_input(torch.from_numpy(images[i : i + batch_size]).to(device))).float().cpu()
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(out).numpy()


def restrict_to_core(ks: KeypointSet) -> KeypointSet:
    core = list(ks.scheme.core)
    has_core = ks.mask[:, core].all(1)
    mask = np.zeros_like(ks.mask)
    mask[:, core] = True
    subset = ks.subset(has_core)
    return subset.with_points(subset.points, mask[has_core])


def fill_from_predictions(ks: KeypointSet, predictions: np.ndarray) -> KeypointSet:
    points = np.where(ks.mask[..., None], ks.points, predictions).astype(np.float32)
    return ks.with_points(points, np.ones_like(ks.mask))


def fit_predictor(
    config: TrainConfig, train_set: KeypointSet, val_set: KeypointSet | None, work_dir: Path,
    progress: bool = True,
) -> nn.Module:
    """Train whatever the config's strategy and ensemble size call for; return the inference graph."""
    if config.ensemble > 1:
        members = [
            fit_predictor(config.but(ensemble=1, seed=config.seed + i), train_set, val_set, work_dir / f"member{i}", progress)
            for i in range(config.ensemble)
        ]
        ensemble = Ensemble(members).eval()
        if hasattr(members[0], "scheme_mappings"):  # the members' mean mapping to each other scheme
            ensemble.scheme_mappings = {part: np.mean([m.scheme_mappings[part] for m in members], 0).tolist()
                                        for part in members[0].scheme_mappings}
        return ensemble

    def fit(ks: KeypointSet, folder: Path, cfg: TrainConfig = config, val=val_set, stage: str = "",
            later_epochs: int = 0) -> nn.Module:
        bar = TrainingProgress(stage, later_epochs) if progress else False
        return predictor_of(fit_module(cfg, ks, val, folder, bar), cfg)

    strategy = config.strategy
    if isinstance(train_set.scheme, StackedScheme) and strategy != "masked":
        raise FacepointsError(f"sets of several schemes train with --strategy masked, not {strategy}")
    if strategy == "masked":
        return fit(train_set, work_dir)
    if strategy in IMPUTERS:
        return fit(IMPUTERS[strategy](train_set), work_dir)
    if strategy == "pseudo":
        first = fit(train_set, work_dir / "first", config.but(strategy="masked"), stage="stage 1/2: masked",
                    later_epochs=config.epochs)
        return fit(fill_from_predictions(train_set, predict(first, train_set.images)), work_dir / "second",
                   stage="stage 2/2: pseudo-labels")
    if strategy == "split":
        core_val = restrict_to_core(val_set) if val_set is not None else None
        core = fit(restrict_to_core(train_set), work_dir / "core", val=core_val, stage="model 1/2: core keypoints",
                   later_epochs=config.epochs)
        full = fit(drop_incomplete(train_set), work_dir / "full", stage="model 2/2: all keypoints")
        return CorePlusFull(full, core, train_set.scheme.num_keypoints, train_set.scheme.core).eval()
    raise ValueError(f"unknown strategy {strategy!r}")
