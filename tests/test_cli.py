"""The CLI as a user meets it: exit codes, one-line errors, no tracebacks."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from facepoints import __version__
from facepoints.commands.detect import example_photo
from facepoints.cli import app

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, list(map(str, args)))
    return result.exit_code, result.output


def test_version():
    code, out = run("--version")
    assert code == 0 and __version__ in out


@pytest.mark.parametrize("args, message", [
    (["train", "--data", "missing.zip", "--out", "{tmp}/r"], "missing.zip: training data not found"),
    (["train", "--data", "{fkd}/training.zip", "--out", "{tmp}/r", "--strategy", "guess"], "unknown strategy 'guess'"),
    (["train", "--data", "{fkd}/training.zip", "--out", "{tmp}/r", "--model", "nope"], "unknown model 'nope'"),
    (["train", "--data", "{fkd}/training.zip", "--out", "{tmp}/r", "--model-cfg", '{{"wdth": 8}}'], "'wdth'"),
    (["train", "--data", "{fkd}/training.zip", "--out", "{tmp}/r", "--model-cfg", "[8]"], "--model-cfg must be a JSON object"),
    (["evaluate", "{tmp}/nothing.onnx", "--data", "{fkd}/training.zip"], "no such model file or run folder"),
    (["evaluate", "{tmp}/bad.onnx", "--data", "{fkd}/training.zip"], "bad.onnx: cannot load ONNX model"),
    (["submit", "--test", "{fkd}/test.zip", "--lookup", "{fkd}/training_identities.csv", "--out", "{tmp}/s.csv"],
     "training_identities.csv"),
])
def test_user_errors_are_one_line_with_exit_code_1(tmp_path, fkd_dir, args, message):
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    args = [a.format(tmp=tmp_path, fkd=fkd_dir) for a in args]
    proc = subprocess.run([sys.executable, "-m", "facepoints.cli", *args], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "s.csv").exists()


def test_usage_errors_exit_2():
    code, _ = run("train", "--epochs", "-3")
    assert code == 2


@pytest.mark.parametrize("args, words", [
    (["detect", "--example", "--box", "1,2,3"], ["x,y,w,h"]),
    (["detect", "--example", "--model", "nosuch"], ["'nosuch'", "ibug68-fast"]),
    (["filter", "clown", "{photo}"], ["'clown'", "sunglasses"]),
])
def test_mistyped_values_are_usage_errors_exit_2(args, words):
    code, out = run(*[a.format(photo=example_photo()) for a in args])
    assert code == 2, out
    for word in words:
        assert word in out


def test_scheme_the_model_cannot_give_is_one_line_naming_those_it_can():
    """--scheme takes any name (a model trained on a user's scheme gives its own); the model judges it,
    and a name it cannot give is a usage error (exit 2), as the help says."""
    code, out = run("detect", "--example", "--scheme", "xyz")
    assert code == 2 and out.strip() == ("error: model ibug68.onnx gives ibug68 keypoints, which cannot make 'xyz'; "
                                         "it can give ibug68, fkd15, celeba5"), out


def without(module: str, *args: str) -> subprocess.CompletedProcess:
    """The CLI where ``module`` is not installed, as in a plain `pip install .`."""
    code = (f"import sys; sys.modules[{module!r}] = None; sys.argv = ['facepoints', *{list(args)!r}]\n"
            "from facepoints.cli import run; run()")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})


def test_missing_extras_are_named(tmp_path):
    proc = without("pyarrow", "detect-ray", "photos", "--out", "faces")  # Ray Data's, imported first
    assert proc.returncode == 1 and proc.stderr.strip() == "error: pyarrow is not installed; install facepoints[ray] for this command"
    proc = without("torch", "explain", "ibug68", "x.jpg", "--out", "why")
    assert proc.returncode == 1 and "install facepoints[train]" in proc.stderr, proc.stderr
    (tmp_path / "clip.mp4").write_bytes(b"")
    proc = without("av", "filter", "hat", str(tmp_path / "clip.mp4"))
    assert proc.returncode == 1 and proc.stderr.strip() == "error: av is not installed; install facepoints[video] for this command"
    proc = without("matplotlib", "evaluate", "fkd15", "--data", "nowhere.zip", "--out", str(tmp_path / "eval"))
    assert proc.returncode == 1 and "install facepoints[plots]" in proc.stderr, proc.stderr


def test_photos_need_no_video_plotting_or_opencv_extra(tmp_path):
    """A plain `pip install .` (no av, no matplotlib, no OpenCV) finds and filters faces in photos;
    without OpenCV the faces, points and pose are OpenCV's to within rounding."""
    for module in ("av", "matplotlib", "cv2"):
        proc = without(module, "detect", "--example", "--json", str(tmp_path / f"{module}.json"))
        assert proc.returncode == 0 and (tmp_path / f"{module}.json").is_file(), proc.stderr
        proc = without(module, "filter", "hat", str(example_photo()), "--out", str(tmp_path / f"{module}.png"))
        assert proc.returncode == 0 and (tmp_path / f"{module}.png").is_file(), proc.stderr
    assert run("detect", "--example", "--json", str(tmp_path / "opencv.json"))[0] == 0
    light, fast = (json.loads((tmp_path / f"{name}.json").read_text())["images"][0]["faces"]
                   for name in ("cv2", "opencv"))
    assert len(light) == len(fast) == 1
    gaps = np.abs(np.subtract(light[0]["keypoints"], fast[0]["keypoints"]))  # pixels of a 512 x 600 photo
    assert gaps.max() < 0.5 and gaps.mean() < 0.15, gaps
    assert np.abs(np.subtract(light[0]["box"], fast[0]["box"])).max() < 1.0
    assert all(abs(light[0]["pose"][k] - fast[0]["pose"][k]) < 1.0 for k in ("yaw", "pitch", "roll"))


def test_models_lists_the_bundled_models_without_torch():
    proc = without("torch", "models")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    out = " ".join(proc.stdout.split())
    for words in ("ibug68-tiny", "96x96 RGB", "1.2 MB", "fastest", "most accurate", "fkd15 (15)", "96x96 grey",
                  "docs/benchmarks.md", "torch is not installed; install facepoints[train]"):
        assert words in out, words
