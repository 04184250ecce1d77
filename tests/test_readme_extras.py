"""Every example of the README's "Beyond points" section runs as written, on the example photo and a
short clip standing in for the user's files, and does what it says."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from facepoints.commands.detect import example_photo

from support import benchmark_module

REPO = Path(__file__).resolve().parents[1]
SECTION = REPO.joinpath("README.md").read_text().split("### Beyond points")[1].split("\n### ")[0]
BLOCKS = re.findall(r"```(python|bash)\n(.*?)```", SECTION, re.S)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, shared_data):
    moving_face = benchmark_module("moving_face")
    folder = tmp_path_factory.mktemp("readme")
    shutil.copy(example_photo(), folder / "photo.jpg")
    (folder / "holiday").mkdir()
    shutil.copy(example_photo(), folder / "holiday" / "beach.jpg")
    moving_face.make_clip(*moving_face.labelled_face(shared_data), folder / "clip.mp4", frames=8)
    return folder


@pytest.mark.parametrize("index", [i for i, (kind, _) in enumerate(BLOCKS) if kind == "python"])
def test_python_examples_run(workdir, index):
    result = subprocess.run([sys.executable, "-c", BLOCKS[index][1]], cwd=workdir, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "HeadPose(yaw=" in result.stdout or re.search(r"face 0: yaw -?\d+, eyes 0\.\d\d", result.stdout)


def test_command_examples_run_and_write_what_they_say(workdir):
    lines = [line.split("  #")[0].split() for kind, block in BLOCKS if kind == "bash" for line in block.splitlines()]
    for words in lines:
        assert words[0] == "facepoints"
        result = subprocess.run([sys.executable, "-m", "facepoints.cli", *words[1:]], cwd=workdir,
                                capture_output=True, text=True)
        assert result.returncode == 0, (words, result.stderr)
    assert sorted(p.name for p in (workdir / "crops").iterdir()) == ["beach_0.png", "photo_0.png"]
    assert (workdir / "heads" / "photo_0.png").is_file() and (workdir / "overlays" / "photo.png").is_file()
    assert (workdir / "sure.png").is_file() and (workdir / "clip_points.mp4").is_file()
    assert "blinks" in json.loads((workdir / "frames.json").read_text())
