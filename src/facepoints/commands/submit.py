"""`facepoints submit`: a Kaggle submission CSV from a model and the competition's test files."""

from __future__ import annotations

from pathlib import Path

import typer

from facepoints.commands.console import console
from facepoints.commands.options import existing, model_option


def submit(
    test: Path = typer.Option(..., help="Kaggle test.csv or test.zip."),
    lookup: Path = typer.Option(..., help="Kaggle IdLookupTable.csv."),
    out: Path = typer.Option(..., help="Submission CSV to write."),
    model: str = model_option("fkd15", help="model.onnx, a run folder, or a bundled model name."),
):
    """Write a Kaggle submission (RowId,Location) for every row of the lookup table."""
    from facepoints.data.fkd import read_fkd_test, read_id_lookup
    from facepoints.fileio import check_outputs
    from facepoints.runtime import KeypointModel
    from facepoints.submission import write_submission

    check_outputs([out], [test, lookup])
    keypoint_model = KeypointModel(model)
    image_ids, images = read_fkd_test(existing(test, "test file"))
    table = read_id_lookup(existing(lookup, "lookup table"), known_image_ids=image_ids)
    predictions = keypoint_model.predict(images)
    write_submission(out, table, image_ids, predictions)
    console.print(f"wrote {out}: {len(table.row_ids)} locations for {len(images)} faces")
