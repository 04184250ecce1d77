"""`facepoints align`: every face of photos cut out upright, eyes and mouth where a template puts
them (ArcFace's 112 px five-point placement, or a whole-head square), for recognition models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from facepoints.commands.console import errors, image_progress
from facepoints.commands.options import DETECT_SIZE, FLIP_TEST, THRESHOLD, model_option
from facepoints.errors import FacepointsError
from facepoints.options import KeypointerOptions


def align(
    inputs: list[str] = typer.Argument(..., help="Images, folders (searched recursively) or - for paths on stdin."),
    out: Path = typer.Option(..., help="Folder for the crops: <photo name>_<face number>.png each."),
    size: int = typer.Option(112, min=16, max=2048, help="Side of the square crops (px)."),
    template: str = typer.Option("arcface", help="arcface: ArcFace/InsightFace's five-point placement; "
                                 "head: the whole head in the square."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write every face's keypoints and crop path."),
    model: str = model_option(KeypointerOptions.model, help="model.onnx, a run folder, or a bundled model name."),
    threshold: float = THRESHOLD,
    detect_size: int = DETECT_SIZE,
    flip_test: bool = FLIP_TEST,
):
    """Cut every face out, aligned. Exit 0: all inputs read; 1: some failed; 2: usage error."""
    from facepoints.align import TEMPLATES
    from facepoints.batch import collect_inputs, each_image, overlay_names, photo_workers
    from facepoints.draw import encode_image
    from facepoints.fileio import check_outputs, output_folder, write_bytes_atomic, write_text_atomic
    from facepoints.inference import FaceKeypointer, image_json

    if template not in TEMPLATES:
        raise typer.BadParameter(f"unknown template {template!r}; choose {', '.join(TEMPLATES)}", param_hint="--template")
    paths = collect_inputs(list(inputs))
    check_outputs([json_out], paths)
    folder = out.resolve()
    if any(folder == p.resolve().parent for p in paths):
        raise FacepointsError(f"{out}: the output folder must not be an input's folder (crops would mix with inputs)")
    output_folder(out)
    workers = photo_workers(len(paths))
    keypointer = FaceKeypointer(options=KeypointerOptions(model=model, threshold=threshold, detect_size=detect_size,
                                                          flip_test=flip_test, threads=1 if workers > 1 else None))
    names = overlay_names(paths)

    def work(path: Path, image) -> dict:
        faces = keypointer(image)
        entry = image_json(image, faces)
        for number, (face, row) in enumerate(zip(faces, entry["faces"])):
            target = out / names[path].with_name(f"{names[path].stem}_{number}.png")
            write_bytes_atomic(target, encode_image(face.aligned(image, size, template)))
            row["crop"] = str(target)
        return entry

    with image_progress("aligning", len(paths)) as on_entry:
        results, failures = each_image(paths, work, workers, on_entry)
    if json_out is not None:
        write_text_atomic(json_out, json.dumps({"images": results}, indent=1))
    crops = sum(len(r["faces"]) for r in results)
    errors.print(f"{crops} face crop(s) from {len(paths) - failures} image(s) in {out}"
                 + (f"; {failures} failed" if failures else ""))
    if failures:
        raise typer.Exit(1)
