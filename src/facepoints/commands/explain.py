"""`facepoints explain`: what each keypoint of a model looks at, as maps over the face."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import typer

from facepoints.commands.console import console
from facepoints.commands.options import BOX
from facepoints.errors import FacepointsError


def explain(
    model: str = typer.Argument(..., help="A bundled model name (ibug68, ibug68-fast, ibug68-tiny, fkd15), a run folder or a .safetensors file."),
    image: Path = typer.Argument(..., help="A photo with a face (the most confident face is explained)."),
    out: Path = typer.Option(..., help="Folder for the pictures and explain.json."),
    keypoint: str = typer.Option("all", help="A keypoint name of the model's scheme, or all."),
    layer: Optional[str] = typer.Option(None, help="Layer for Grad-CAM (default: the last convolutional block)."),
    box: Optional[str] = BOX,
):
    """Grad-CAM and occlusion maps of each keypoint's x and y, over the face the model sees."""
    from facepoints.explain import ExplainableModel, explain_face, select_keypoints, write_explanation
    from facepoints.fileio import atomic_folder
    from facepoints.imageio import read_image
    from facepoints.inference import parse_box

    explainable = ExplainableModel(model)
    keypoints = select_keypoints(explainable.scheme, keypoint)
    explanation = explain_face(explainable, read_image(image), keypoints, layer,
                               parse_box(box) if box else None, name=str(image))
    if out.exists() and any(out.iterdir()):
        if not (out / "explain.json").is_file():
            raise FacepointsError(f"{out}: folder is not empty and holds no earlier explanation; give a new --out")
        shutil.rmtree(out)  # an earlier explanation is replaced whole, leaving none of its pictures behind
    with atomic_folder(out) as folder:
        written = write_explanation(explanation, explainable.scheme, folder,
                                    {"model": str(model), "image": str(image)})
    console.print(f"{image}: {len(keypoints)} keypoint(s) explained at layer {explanation.layer}; "
                  f"wrote {len(written)} files to {out}", highlight=False, soft_wrap=True)
