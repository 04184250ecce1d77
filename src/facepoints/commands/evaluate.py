"""`facepoints evaluate`: a model's errors on labelled data, as a table (and metrics.json, worst.png)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from facepoints.commands.console import console
from facepoints.commands.options import FLIP_TEST, existing
from facepoints.errors import FacepointsError


def evaluate(
    model: str = typer.Argument(..., help="model.onnx, a run folder, or a bundled model name (fkd15)."),
    data: list[Path] = typer.Option(..., help="Labelled data, as for `train` (repeat to combine sets)."),
    groups: Optional[Path] = typer.Option(None, help="CSV `row,identity` for the validation split."),
    split: str = typer.Option("all", help="all rows, or `val`: the run's identity-disjoint validation rows."),
    out: Optional[Path] = typer.Option(None, help="Folder for metrics.json and worst.png."),
    flip_test: bool = FLIP_TEST,
):
    """RMSE (Kaggle's formula), MAE, NME, failure rate and per-keypoint RMSE of a model."""
    from facepoints.evaluation import per_image_error, score
    from facepoints.runtime import KeypointModel
    from facepoints.data.load import load_training_set
    from facepoints.training.split import held_out

    keypoint_model = KeypointModel(model, flip_test=flip_test)
    dataset = load_training_set([existing(d, "data file") for d in data], existing(groups, "groups file") if groups else None)
    if split == "val":
        dataset = held_out(dataset, _run_val_rows(model), data[0].stem)
        if not len(dataset):
            raise FacepointsError(f"{model}: none of the rows it held out are in {', '.join(map(str, data))}")
    elif split != "all":
        raise FacepointsError(f"--split must be all or val, not {split!r}")
    pred = keypoint_model.predict(dataset.images)
    scores = score(pred, dataset.points, dataset.mask, dataset.scheme)

    table = Table(title=f"{keypoint_model.path} on {len(dataset)} faces of {', '.join(map(str, data))}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in ("rmse", "mae", "nme", "failure_rate"):
        table.add_row(name, f"{getattr(scores, name):.4f}")
    for name, value in scores.per_keypoint_rmse.items():
        table.add_row(f"rmse {name}", f"{value:.3f}")
    console.print(table)
    if out is not None:
        from facepoints.fileio import write_text_atomic
        from facepoints.plots import keypoint_grid

        write_text_atomic(out / "metrics.json", json.dumps(scores.as_dict(), indent=2))
        errors_per_image = per_image_error(pred, dataset.points, dataset.mask)
        worst = errors_per_image.argsort()[::-1][:12]
        keypoint_grid(dataset.images[worst], pred[worst], dataset.points[worst], dataset.mask[worst],
                      [f"row {dataset.rows[i]}: {errors_per_image[i]:.1f} px" for i in worst], out / "worst.png")
        console.print(f"wrote {out / 'metrics.json'} and {out / 'worst.png'}")


def _run_val_rows(model: str) -> list[str]:
    split_path = Path(model) / "split.json"
    if not split_path.is_file():
        raise FacepointsError(f"{model}: --split val needs a run folder with split.json")
    try:
        return json.loads(split_path.read_text())["val_rows"]
    except (ValueError, KeyError) as e:
        raise FacepointsError(f"{split_path}: not a run's split ({e})") from None
