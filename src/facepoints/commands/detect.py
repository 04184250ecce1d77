"""`facepoints detect`: keypoints for every face in photos, as JSON and drawn overlays."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Optional

import typer

from facepoints.commands.console import console, errors, image_progress
from facepoints.commands.options import BOX, DETECT_SIZE, FLIP_TEST, SCHEME, THRESHOLD, model_option
from facepoints.options import KeypointerOptions


def example_photo() -> Path:
    """A public-domain portrait (Grace Hopper, US Navy photo; the copy matplotlib ships)."""
    return Path(str(resources.files("facepoints") / "assets" / "grace_hopper.jpg"))


def _summary(entry: dict) -> str:
    """One image's line: its faces' boxes and scores, or its error."""
    if "error" in entry:
        return f"{entry['path']}: error"
    faces = entry["faces"]
    boxes = "; ".join(f"box {','.join(f'{v:g}' for v in f['box'])} score {f['score']:.2f}" for f in faces)
    scheme = f" ({len(faces[0]['keypoints'])} {faces[0]['scheme']} keypoints each)" if faces else ""
    return f"{entry['path']}: {len(faces)} face(s){scheme}" + (f": {boxes}" if faces else "")


def detect(
    inputs: list[str] = typer.Argument(None, help="Images, folders (searched recursively) or - for paths on stdin."),
    scheme: Optional[str] = SCHEME,
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write all results to this JSON file (- for stdout)."),
    draw: Optional[Path] = typer.Option(None, help="Folder for overlay pictures, <name>.png each (photos that "
                                        "share a name keep their folders below the inputs' common one)."),
    numbers: bool = typer.Option(False, help="Number the keypoints in overlays."),
    box: Optional[str] = BOX,
    model: str = model_option(KeypointerOptions.model, help="model.onnx, a run folder, or a bundled model name (ibug68; ibug68-fast: faster per face, slightly less accurate; ibug68-tiny: faster still, on 96 px crops; fkd15)."),
    threshold: float = THRESHOLD,
    detect_size: int = DETECT_SIZE,
    flip_test: bool = FLIP_TEST,
    refine: Optional[int] = typer.Option(None, min=0, max=3, help="Extra passes framed from the model's own "
                                         "keypoints (default: 0, or 1 with --box)."),
    example: bool = typer.Option(False, help="Run on the bundled example photo."),
):
    """Find every face and its keypoints. Exit 0: all inputs read; 1: some failed; 2: usage error."""
    from facepoints.batch import collect_inputs, each_image, overlay_names, photo_workers
    from facepoints.draw import draw_faces, encode_image
    from facepoints.fileio import check_outputs, output_folder, write_bytes_atomic, write_text_atomic
    from facepoints.inference import FaceKeypointer, check_box_on, image_json, parse_box

    paths = collect_inputs(list(inputs or [])) + ([example_photo()] if example else [])
    if not paths:
        raise typer.BadParameter("give at least one image, folder, - or --example")
    boxes = [parse_box(box)] if box else None
    workers = photo_workers(len(paths))
    options = KeypointerOptions(model=model, scheme=scheme, threshold=threshold, detect_size=detect_size,
                                flip_test=flip_test, refine=refine if refine is not None else int(bool(box)),
                                threads=1 if workers > 1 else None)
    overlays = overlay_names(paths) if draw is not None else {}
    to_stdout = json_out == Path("-")
    if to_stdout:
        json_out = None
    check_outputs([json_out, *(draw / name for name in overlays.values())], paths)
    keypointer = FaceKeypointer(options=options)
    if draw is not None:
        output_folder(draw)

    def work(path: Path, image) -> dict:
        if boxes:
            check_box_on(boxes[0], image, str(path))
        faces = keypointer(image, boxes=boxes)
        if draw is not None:
            write_bytes_atomic(draw / overlays[path], encode_image(draw_faces(image, faces, numbers=numbers)))
        return image_json(image, faces)

    with image_progress("detecting", len(paths)) as on_entry:
        results, failures = each_image(paths, work, workers, on_entry)

    document = {"images": results}
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(document, indent=1))
    elif to_stdout:
        console.print_json(json.dumps(document))
    else:  # the keypoints only when asked for (--json): here, what was found where
        for entry in results:
            console.print(_summary(entry), highlight=False, soft_wrap=True)
    found = sum(len(r["faces"]) for r in results)
    errors.print(f"{found} face(s) in {len(paths) - failures} image(s)" + (f"; {failures} failed" if failures else ""))
    if failures:
        raise typer.Exit(1)
