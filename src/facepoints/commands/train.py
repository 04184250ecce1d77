"""`facepoints train`: a run folder with config, metrics, plots, weights, ONNX and a card."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from facepoints.commands.console import console
from facepoints.commands.options import existing
from facepoints.errors import FacepointsError
from facepoints.training.config import RECIPES

_DEFAULT = RECIPES["default"]


def train(
    data: list[Path] = typer.Option(..., help="Training data: Kaggle training.csv/.zip, a landmark CSV, a .pts "
                                    "folder or packed crops (.npz); repeat to combine sets."),
    out: Path = typer.Option(..., help="Run folder to write (an unfinished one is resumed; a complete one is "
                             "left as it is: exit 0 with the same settings, 1 with others)."),
    exclude: Optional[str] = typer.Option(None, help="Leave out the top N suspects of an audit: suspects.csv[:N]."),
    val_groups: Optional[Path] = typer.Option(None, help="CSV `row,identity`: hold out whole identities."),
    scheme: Optional[Path] = typer.Option(None, help="Your own points: a scheme .json or a landmark .csv whose header names them."),
    init: Optional[str] = typer.Option(None, help="Start from a trained model: a bundled name (ibug68) or a run folder."),
    freeze_epochs: Optional[int] = typer.Option(None, min=0, help="With --init: keep the encoder frozen this many epochs."),
    recipe: Optional[str] = typer.Option(None, help="default (finetune with --init), photo68 (68 points on photo crops), photo68-fast (the same for CPUs), or a seed re-creation: mean, nouri, lenet5, vgg_like, conv12, conv4."),
    model: Optional[str] = typer.Option(None, help="Architecture (see `facepoints models`)."),
    model_cfg: Optional[str] = typer.Option(None, help='Architecture options as JSON, e.g. \'{"width": 48}\'.'),
    strategy: Optional[str] = typer.Option(None, help="Missing keypoints: masked, drop, ffill, mean, linear, pseudo, split."),
    augment: Optional[str] = typer.Option(None, help="Augmentation preset: none, flip, flip_brightness, full, photo, pose (turns to +-60 degrees, occluded eyes and mouth)."),
    epochs: Optional[int] = typer.Option(None, min=0, show_default=f"the recipe's; default recipe {_DEFAULT.epochs}",
                                         help="Most epochs (per stage: the pseudo strategy trains twice). "
                                              "Early stopping can end sooner."),
    patience: Optional[int] = typer.Option(None, min=1, help="Stop after this many epochs without a better validation RMSE."),
    batch_size: Optional[int] = typer.Option(None, min=1, show_default=f"the recipe's; default recipe {_DEFAULT.batch_size}"),
    lr: Optional[float] = typer.Option(None, min=0.0, show_default=f"the recipe's; default recipe {_DEFAULT.lr:g}",
                                       help="Peak learning rate."),
    ensemble: Optional[int] = typer.Option(None, min=1, help="Average this many independently seeded models."),
    flip_tta: Optional[bool] = typer.Option(None, help="Average with the mirrored face's prediction."),
    val_fraction: Optional[float] = typer.Option(None, min=0.0, max=0.9, help="Share held out (0: train on all)."),
    devices: Optional[int] = typer.Option(None, min=1, help="GPUs (or CPU processes) per host for data-parallel training."),
    nodes: Optional[int] = typer.Option(None, min=1, help="Hosts, for a run started on each by torchrun --nnodes."),
    seed: Optional[int] = typer.Option(None),
    balance: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Draw each --data set in proportion to its "
                                            "size to this power: 1 as large as it is, 0 all sets equally often."),
    compile: Optional[bool] = typer.Option(None, "--compile/--no-compile",
                                           help="Compile the training step into fused kernels (default: on a GPU)."),
    graph: Optional[bool] = typer.Option(None, "--graph/--no-graph",
                                         help="Replay the step as one CUDA graph (one GPU only; off by default)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
):
    """Train a keypoint model; the run folder holds config, metrics, plots, weights, ONNX and a card."""
    from facepoints.fileio import check_outputs
    from facepoints.scheme_file import read_scheme_file
    from facepoints.training.config import recipe as make_recipe
    from facepoints.training.run import train_run

    overrides = {k: v for k, v in dict(
        model=model, model_cfg=_json_object(model_cfg, "--model-cfg") if model_cfg else None, strategy=strategy, augment=augment, epochs=epochs, patience=patience,
        batch_size=batch_size, lr=lr,
        ensemble=ensemble, flip_tta=flip_tta, val_fraction=val_fraction, devices=devices, nodes=nodes, seed=seed, balance=balance,
        compile=compile, graph=graph, init=init, freeze_epochs=freeze_epochs,
    ).items() if v is not None}
    check_outputs([out], data)
    config = make_recipe(recipe or ("finetune" if init else "default"), **overrides)
    user_scheme = read_scheme_file(scheme) if scheme else None
    excluded = None
    if exclude:
        from facepoints.audit.suspects import read_exclusions

        excluded = read_exclusions(exclude)
    result = train_run(config, [existing(d, "training data") for d in data], out,
                       existing(val_groups, "groups file") if val_groups else None, exclude_rows=excluded,
                       progress=progress, scheme=user_scheme)
    if not result:  # a data-parallel worker: rank 0 reports
        return
    console.print(f"{out}: {'complete already, nothing to train: ' if result.get('complete') else ''}{run_summary(result)}")


def run_summary(result: dict) -> str:
    """The run's scores, saying why they differ from the progress bar's last val_rmse."""
    val = result.get("val")
    if not val:
        summary = "trained on all rows"
    else:
        summary = f"validation RMSE {val['rmse']:.3f} px on {result['val_rows']} rows, of the best epoch"
        if "val_without_flip_tta" in result:
            summary += (f" with flip test-time averaging ({result['val_without_flip_tta']['rmse']:.3f} without it, "
                        "as the progress bar's val_rmse is measured)")
    return f"{summary}; {result['train_seconds']} s on {result['device']}"


def _json_object(text: str, option: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise FacepointsError(f"{option} must be a JSON object: {e}") from None
    if not isinstance(value, dict):
        raise FacepointsError(f"{option} must be a JSON object, not {text!r}")
    return value
