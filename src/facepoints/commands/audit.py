"""`facepoints audit`: wrong labels, duplicates and odd pictures of a keypoint data set."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from facepoints.commands.console import console, errors


def audit(
    data: Path = typer.Argument(..., help="Training data: Kaggle training.csv/.zip, a landmark .csv, a .pts folder or a packed .npz."),
    out: Path = typer.Option(..., help="suspects.csv to write: one row per suspicious face, most suspicious first."),
    report: Optional[Path] = typer.Option(None, help="Also write a self-contained HTML report here."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
):
    """Find wrong labels, duplicates and odd pictures; write them ranked to a CSV (and a report)."""
    from facepoints.audit.findings import KINDS
    from facepoints.audit.report import write_report
    from facepoints.audit.run import STEPS, audit_keypoint_set
    from facepoints.audit.suspects import write_suspects
    from facepoints.data import load_dataset
    from facepoints.fileio import check_outputs

    check_outputs([out, report], [data])
    columns = (TextColumn("{task.description:<36}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True, disable=not progress) as bar:
        task = bar.add_task("reading data", total=STEPS + 1 + (report is not None))
        dataset = load_dataset(data)
        result = audit_keypoint_set(dataset, on_step=lambda step: bar.update(task, description=step, advance=1))
        bar.update(task, description="writing", completed=STEPS + 1)
        write_suspects(out, result.suspects)
        if report is not None:
            write_report(report, result)
    kinds = ", ".join(f"{sum(s.kind == k for s in result.suspects)} {k}" for k in KINDS)
    written = f"{out}" + (f" and {report}" if report is not None else "")
    console.print(f"{len(dataset)} faces audited in {result.seconds:.0f} s: {len(result.suspects)} suspects "
                  f"({kinds}); wrote {written}", highlight=False, soft_wrap=True)
