"""The `facepoints` command. User errors print one line and exit non-zero, never a traceback."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from facepoints import __version__
from facepoints.commands.audit import audit as audit_command
from facepoints.commands.detect import detect as detect_command
from facepoints.commands.detect_ray import detect_ray as detect_ray_command
from facepoints.commands.explain import explain as explain_command
from facepoints.commands.filter import filter_faces as filter_command
from facepoints.commands.options import FLIP_TEST
from facepoints.commands.serve import serve as serve_command
from facepoints.errors import FacepointsError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Facial keypoints: train, measure and use keypoint models.")
console = Console()
errors = Console(stderr=True)


def user_errors(command):
    """Turn a FacepointsError (or a missing optional dependency) into one line and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):  # the command's own exit codes and usage errors
            raise
        except FacepointsError as e:
            errors.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except ModuleNotFoundError as e:
            errors.print(f"[red]error:[/red] {e.name} is not installed; install facepoints\\[train] for this command",
                         highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            errors.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as e:  # a bug, not a user error: still one line unless asked for more
            if os.environ.get("FACEPOINTS_DEBUG"):
                raise
            errors.print(f"[red]internal error:[/red] {type(e).__name__}: {e} (set FACEPOINTS_DEBUG=1 for details)",
                         highlight=False, soft_wrap=True)
            raise typer.Exit(3) from None

    return command if os.environ.get("FACEPOINTS_DEBUG") == "raw" else wrapper


def _version(value: bool):
    if value:
        console.print(f"facepoints {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")):
    """Facial keypoints: train, measure and use keypoint models."""


def _json_object(text: str, option: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise FacepointsError(f"{option} must be a JSON object: {e}") from None
    if not isinstance(value, dict):
        raise FacepointsError(f"{option} must be a JSON object, not {text!r}")
    return value


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise FacepointsError(f"{path}: {what} not found")
    return path


@app.command()
@user_errors
def train(
    data: list[Path] = typer.Option(..., help="Training data: Kaggle training.csv/.zip, a landmark CSV, a .pts "
                                    "folder or packed crops (.npz); repeat to combine sets."),
    out: Path = typer.Option(..., help="Run folder to write (an existing one is resumed)."),
    exclude: Optional[str] = typer.Option(None, help="Leave out the top N suspects of an audit: suspects.csv[:N]."),
    val_groups: Optional[Path] = typer.Option(None, help="CSV `row,identity`: hold out whole identities."),
    recipe: str = typer.Option("default", help="default, photo68 (68 points on photo crops), photo68-fast (the same for CPUs), or a seed re-creation: mean, nouri, lenet5, vgg_like, conv12, conv4."),
    model: Optional[str] = typer.Option(None, help="Architecture (see `facepoints models`)."),
    model_cfg: Optional[str] = typer.Option(None, help='Architecture options as JSON, e.g. \'{"width": 48}\'.'),
    strategy: Optional[str] = typer.Option(None, help="Missing keypoints: masked, drop, ffill, mean, linear, pseudo, split."),
    augment: Optional[str] = typer.Option(None, help="Augmentation preset: none, flip, flip_brightness, full, photo."),
    epochs: Optional[int] = typer.Option(None, min=0),
    patience: Optional[int] = typer.Option(None, min=1, help="Stop after this many epochs without a better validation RMSE."),
    batch_size: Optional[int] = typer.Option(None, min=1),
    lr: Optional[float] = typer.Option(None, min=0.0),
    ensemble: Optional[int] = typer.Option(None, min=1, help="Average this many independently seeded models."),
    flip_tta: Optional[bool] = typer.Option(None, help="Average with the mirrored face's prediction."),
    val_fraction: Optional[float] = typer.Option(None, min=0.0, max=0.9, help="Share held out (0: train on all)."),
    devices: Optional[int] = typer.Option(None, min=1, help="GPUs (or CPU processes) per host for data-parallel training."),
    nodes: Optional[int] = typer.Option(None, min=1, help="Hosts, for a run started on each by torchrun --nnodes."),
    seed: Optional[int] = typer.Option(None),
    compile: Optional[bool] = typer.Option(None, "--compile/--no-compile",
                                           help="Compile the training step into fused kernels (default: on a GPU)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
):
    """Train a keypoint model; the run folder holds config, metrics, plots, weights, ONNX and a card."""
    from facepoints.training.config import recipe as make_recipe
    from facepoints.training.run import train_run

    overrides = {k: v for k, v in dict(
        model=model, model_cfg=_json_object(model_cfg, "--model-cfg") if model_cfg else None, strategy=strategy, augment=augment, epochs=epochs, patience=patience,
        batch_size=batch_size, lr=lr,
        ensemble=ensemble, flip_tta=flip_tta, val_fraction=val_fraction, devices=devices, nodes=nodes, seed=seed,
        compile=compile,
    ).items() if v is not None}
    config = make_recipe(recipe, **overrides)
    excluded = None
    if exclude:
        from facepoints.audit.suspects import read_exclusions

        excluded = read_exclusions(exclude)
    result = train_run(config, [_existing(d, "training data") for d in data], out,
                       _existing(val_groups, "groups file") if val_groups else None, exclude_rows=excluded,
                       progress=progress)
    if not result:  # a data-parallel worker: rank 0 reports
        return
    val = result.get("val")
    summary = f"validation RMSE {val['rmse']:.3f} px on {result['val_rows']} rows" if val else "trained on all rows"
    console.print(f"{out}: {summary}; {result['train_seconds']} s on {result['device']}")


@app.command()
@user_errors
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
    dataset = load_training_set([_existing(d, "data file") for d in data], _existing(groups, "groups file") if groups else None)
    if split == "val":
        dataset = held_out(dataset, _run_val_rows(model), data[0].stem)
        if not len(dataset):
            raise FacepointsError(f"{model}: none of the rows it held out are in {', '.join(map(str, data))}")
    elif split != "all":
        raise FacepointsError(f"--split must be all or val, not {split!r}")
    pred = keypoint_model.predict(dataset.images)
    scores = score(pred, dataset.points, dataset.mask, dataset.scheme)

    table = Table(title=f"{keypoint_model.path} on {len(dataset)} faces of {data}")
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


@app.command()
@user_errors
def submit(
    test: Path = typer.Option(..., help="Kaggle test.csv or test.zip."),
    lookup: Path = typer.Option(..., help="Kaggle IdLookupTable.csv."),
    out: Path = typer.Option(..., help="Submission CSV to write."),
    model: str = typer.Option("fkd15", help="model.onnx, a run folder, or a bundled model name."),
):
    """Write a Kaggle submission (RowId,Location) for every row of the lookup table."""
    from facepoints.data.fkd import read_fkd_test, read_id_lookup
    from facepoints.runtime import KeypointModel
    from facepoints.submission import write_submission

    keypoint_model = KeypointModel(model)
    image_ids, images = read_fkd_test(_existing(test, "test file"))
    table = read_id_lookup(_existing(lookup, "lookup table"), known_image_ids=image_ids)
    predictions = keypoint_model.predict(images)
    write_submission(out, table, image_ids, predictions)
    console.print(f"wrote {out}: {len(table.row_ids)} locations for {len(images)} faces")


app.command()(user_errors(detect_command))
app.command()(user_errors(detect_ray_command))
app.command()(user_errors(audit_command))
app.command("filter")(user_errors(filter_command))
app.command()(user_errors(serve_command))
app.command()(user_errors(explain_command))


@app.command()
def models():
    """List the architectures `facepoints train --model` accepts."""
    from facepoints.models import list_models

    for name in list_models():
        console.print(name)


def _optional_values(argv: list[str]) -> list[str]:
    """`--webcam` alone means camera 0 (click options take a value or none, not either)."""
    out = []
    for i, arg in enumerate(argv):
        out.append(arg)
        if arg == "--webcam" and not (i + 1 < len(argv) and argv[i + 1].isdigit()):
            out.append("0")
    return out


def run() -> None:  # console-script entry point
    app(args=_optional_values(sys.argv[1:]), prog_name="facepoints")


if __name__ == "__main__":
    sys.exit(run())
