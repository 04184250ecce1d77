"""`facepoints evaluate`: a model's errors on labelled data, as a table (and metrics.json, worst.png)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.progress import Progress
from rich.table import Table

from facepoints.commands.console import console, errors
from facepoints.commands.options import FLIP_TEST, existing
from facepoints.errors import FacepointsError
from facepoints.training.config import RECIPES

_DEFAULT = RECIPES["default"]


def evaluate(
    model: str = typer.Argument(..., help="model.onnx, a run folder, or a bundled model name (fkd15)."),
    data: list[Path] = typer.Option(..., help="Labelled data, as for `train` (repeat to combine sets)."),
    groups: Optional[Path] = typer.Option(None, "--groups", "--val-groups", help="CSV `row,identity` for the validation split."),
    split: str = typer.Option("all", help="all rows, or `val`: the validation rows of a run folder, or for another "
                              "model those `train` would hold out (from --val-groups, --val-fraction and --seed)."),
    val_fraction: float = typer.Option(_DEFAULT.val_fraction, min=0.0, max=0.9, help="--split val without a run folder: as train's."),
    seed: int = typer.Option(_DEFAULT.seed, help="--split val without a run folder: as train's."),
    out: Optional[Path] = typer.Option(None, help="Folder for metrics.json and worst.png."),
    flip_test: bool = FLIP_TEST,
):
    """RMSE (Kaggle's formula), percentage error, MAE, NME, failure rate and per-keypoint RMSE of a model,
    beside the mean benchmark's (each coordinate's mean over the run's training rows, or over the data),
    and NME by head pose."""
    from facepoints.evaluation import mean_benchmark, per_image_error, score
    from facepoints.pose import POSE_BINS, scores_by_pose
    from facepoints.runtime import KeypointModel
    from facepoints.data.load import load_training_set
    from facepoints.data.mixed import StackedScheme
    from facepoints.inference import grey_image

    if split not in ("all", "val"):
        raise typer.BadParameter(f"must be all or val, not {split!r}", param_hint="--split")
    if out is not None:
        from facepoints.fileio import check_outputs
        from facepoints.plots import keypoint_grid  # needs facepoints[plots]: say so before the work

        check_outputs([out / "metrics.json", out / "worst.png"], data)
    keypoint_model = KeypointModel(model, flip_test=flip_test)
    source = keypoint_model.scheme.name
    user_scheme = keypoint_model.scheme if keypoint_model.record.scheme_definition else None  # names the CSV's points

    def scorable(scheme: str) -> None:  # before any face is cropped
        try:
            keypoint_model.record.mapping_to(scheme)
        except ValueError:
            raise FacepointsError(f"{model} gives {source} keypoints, which cannot be mapped to the data's {scheme}; "
                                  "evaluate it on data of its own points or of fewer") from None

    dataset = load_training_set([existing(d, "data file") for d in data], existing(groups, "groups file") if groups else None,
                                scheme=user_scheme, framing=keypoint_model.framing, progress=True, check_scheme=scorable)
    if isinstance(dataset.scheme, StackedScheme):
        raise FacepointsError(f"{', '.join(map(str, data))}: sets of different schemes; evaluate on one scheme at a time")
    reference = dataset  # the faces whose mean shape is the benchmark: the training rows where known
    if split == "val":
        dataset = _validation_rows(dataset, model, data, val_fraction, seed)
        reference = reference.subset(~np.isin(reference.rows, dataset.rows))
    images = dataset.images
    if keypoint_model.channels == 1 and images.ndim == 4 and images.shape[-1] == 3:  # photo crops, grey model
        images = grey_image(images)
    pred = _predict(keypoint_model, images)
    # The model's own mapping to the data's points: learned where it was trained on that scheme.
    pred = np.einsum("ts,nsc->ntc", keypoint_model.record.mapping_to(dataset.scheme.name), pred).astype(np.float32)
    scores = score(pred, dataset.points, dataset.mask, dataset.scheme)
    benchmark = score(mean_benchmark(reference.points, reference.mask, len(dataset)), dataset.points, dataset.mask,
                      dataset.scheme)

    table = Table(title=f"{keypoint_model.path} on {len(dataset)} faces of {', '.join(map(str, data))}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("mean benchmark", justify="right")
    for name in ("rmse", "percentage_error", "mae", "nme", "failure_rate"):
        table.add_row(name, f"{getattr(scores, name):.4f}", f"{getattr(benchmark, name):.4f}")
    for name, value in scores.per_keypoint_rmse.items():
        table.add_row(f"rmse {name}", f"{value:.3f}")
    console.print(table)
    by_pose = scores_by_pose(pred, dataset.points, dataset.mask, dataset.scheme)
    pose_table = Table(title="by the labels' yaw: " + ", ".join(f"{n} {lo:g}-{hi:g} degrees" for n, lo, hi in POSE_BINS))
    for column in ("pose", "faces", "nme", "failure_rate"):
        pose_table.add_column(column, justify="left" if column == "pose" else "right")
    for name, row in by_pose.items():
        pose_table.add_row(name, str(row["count"]), f"{row['nme']:.4f}", f"{row['failure_rate']:.4f}")
    console.print(pose_table)
    if out is not None:
        from facepoints.fileio import write_text_atomic

        write_text_atomic(out / "metrics.json", json.dumps(
            {**scores.as_dict(), "mean_benchmark": benchmark.as_dict(), "by_pose": by_pose}, indent=2))
        errors_per_image = per_image_error(pred, dataset.points, dataset.mask)
        worst = errors_per_image.argsort()[::-1][:12]
        keypoint_grid(dataset.images[worst], pred[worst], dataset.points[worst], dataset.mask[worst],
                      [f"row {dataset.rows[i]}: {errors_per_image[i]:.1f} px" for i in worst], out / "worst.png")
        console.print(f"wrote {out / 'metrics.json'} and {out / 'worst.png'}")


def _predict(keypoint_model, images: np.ndarray, chunk: int = 256) -> np.ndarray:
    """The model's points on every crop, with a progress bar on stderr for long evaluations."""
    with Progress(console=errors, transient=True, disable=len(images) <= chunk) as progress:
        task = progress.add_task("predicting", total=len(images))
        parts = []
        for start in range(0, len(images), chunk):
            parts.append(keypoint_model.predict(images[start : start + chunk]))
            progress.advance(task, len(parts[-1]))
    return np.concatenate(parts) if parts else keypoint_model.predict(images)


def _validation_rows(dataset, model: str, data: list[Path], val_fraction: float, seed: int):
    """A run folder's held-out rows (its split.json), or for any other model the rows `train`
    holds out with the same groups, fraction and seed (training.split.split_by_group)."""
    from facepoints.training.split import held_out, split_by_group

    if not (Path(model) / "split.json").is_file():
        return split_by_group(dataset, val_fraction, seed)[1]
    rows = held_out(dataset, _run_val_rows(model), data[0].stem)
    if not len(rows):
        raise FacepointsError(f"{model}: none of the rows it held out are in {', '.join(map(str, data))}")
    return rows


def _run_val_rows(model: str) -> list[str]:
    split_path = Path(model) / "split.json"
    try:
        return json.loads(split_path.read_text())["val_rows"]
    except (ValueError, KeyError) as e:
        raise FacepointsError(f"{split_path}: not a run's split ({e})") from None
