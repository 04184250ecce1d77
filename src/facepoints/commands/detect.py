"""`facepoints detect`: keypoints for every face in photos, as JSON and drawn overlays."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from facepoints.commands.batch import each_image, photo_workers
from facepoints.commands.options import DETECT_SIZE, FLIP_TEST, THRESHOLD

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def example_photo() -> Path:
    """A public-domain portrait (Grace Hopper, US Navy photo) that matplotlib ships."""
    import matplotlib.cbook

    return Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def collect_inputs(inputs: list[str]) -> list[Path]:
    """Files as given, folders searched recursively in sorted order, `-` for paths on stdin."""
    paths: list[Path] = []
    for item in inputs:
        if item == "-":
            paths += [Path(line.strip()) for line in sys.stdin if line.strip()]
        elif Path(item).is_dir():
            paths += sorted(p for p in Path(item).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            paths.append(Path(item))
    return paths


def overlay_names(paths: list[Path]) -> dict[Path, Path]:
    """Each input's overlay inside --draw: ``<name>.png``, or where two photos share a name, its
    path below the inputs' common folder, so that neither overwrites the other."""
    flat = {path: Path(f"{path.stem}.png") for path in paths}
    resolved = {path: path.resolve() for path in paths}
    if len(set(flat.values())) == len(set(resolved.values())):
        return flat
    try:
        root = Path(os.path.commonpath([full.parent for full in resolved.values()]))
    except ValueError:  # Windows drives share no folder: number the photos instead
        return {path: Path(f"{index}_{path.stem}.png") for index, path in enumerate(resolved)}
    return {path: full.relative_to(root).with_suffix(".png") for path, full in resolved.items()}


def detect(
    inputs: list[str] = typer.Argument(None, help="Images, folders (searched recursively) or - for paths on stdin."),
    scheme: Optional[str] = typer.Option(None, help="Keypoints to report: ibug68, fkd15 or celeba5 (default: the model's)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write all results to this JSON file."),
    draw: Optional[Path] = typer.Option(None, help="Folder for overlay pictures, <name>.png each (photos that "
                                        "share a name keep their folders below the inputs' common one)."),
    numbers: bool = typer.Option(False, help="Number the keypoints in overlays."),
    box: Optional[str] = typer.Option(None, help="x,y,w,h of the face: skip detection."),
    model: str = typer.Option("ibug68", help="model.onnx, a run folder, or a bundled model name (ibug68; ibug68-fast: 2.5-5x faster per face, slightly less accurate; ibug68-tiny: faster still, on 96 px crops; fkd15)."),
    threshold: float = THRESHOLD,
    detect_size: int = DETECT_SIZE,
    flip_test: bool = FLIP_TEST,
    refine: Optional[int] = typer.Option(None, min=0, max=3, help="Extra passes framed from the model's own "
                                         "keypoints (default: 0, or 1 with --box)."),
    example: bool = typer.Option(False, help="Run on the bundled example photo."),
):
    """Find every face and its keypoints. Exit 0: all inputs read; 1: some failed; 2: usage error."""
    from facepoints.draw import draw_faces, encode_image
    from facepoints.fileio import write_bytes_atomic, write_text_atomic
    from facepoints.inference import FaceKeypointer, image_json, parse_box

    paths = collect_inputs(list(inputs or [])) + ([example_photo()] if example else [])
    if not paths:
        raise typer.BadParameter("give at least one image, folder, - or --example")
    boxes = [parse_box(box)] if box else None
    workers = photo_workers(len(paths))
    keypointer = FaceKeypointer(model=model, threshold=threshold, detect_size=detect_size, flip_test=flip_test,
                                refine=refine if refine is not None else int(bool(box)),
                                threads=1 if workers > 1 else None)
    keypointer.check_scheme(scheme)
    if draw is not None:
        draw.mkdir(parents=True, exist_ok=True)
        overlays = overlay_names(paths)

    from facepoints.cli import console, errors

    def work(path: Path, image) -> dict:
        faces = keypointer(image, boxes=boxes, scheme=scheme)
        if draw is not None:
            write_bytes_atomic(draw / overlays[path], encode_image(draw_faces(image, faces, numbers=numbers)))
        return image_json(image, faces)

    results, failures = each_image(paths, "detecting", work, workers)

    document = {"images": results}
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(document, indent=1))
    else:
        console.print_json(json.dumps(document))
    found = sum(len(r["faces"]) for r in results)
    errors.print(f"{found} face(s) in {len(paths) - failures} image(s)" + (f"; {failures} failed" if failures else ""))
    if failures:
        raise typer.Exit(1)
