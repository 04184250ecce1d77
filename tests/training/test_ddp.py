"""Data-parallel training through torchrun + Lightning DDP: two CPU processes on the gloo backend."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from facepoints.training.checkpoint_io import load_tree


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Two ranks training on a 2-core machine: with the slow tests, the compiled variant too.
@pytest.mark.slow
@pytest.mark.parametrize("step", ["eager", "compiled"])
def test_two_ranks_end_identical_with_one_checkpoint(tmp_path, fkd_dir, step, request):
    if step == "compiled":
        request.getfixturevalue("cxx_compiler")
    worker = Path(__file__).with_name("ddp_worker.py")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
         "--master-port", str(_free_port()), str(worker), str(fkd_dir / "training.zip"), str(tmp_path), "2", "1", step],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0 = load_file(tmp_path / "ranks" / "rank0.safetensors")
    rank1 = load_file(tmp_path / "ranks" / "rank1.safetensors")
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    # One checkpoint, written by rank 0; the 128 rows were split: 64 per rank, 4 steps an epoch.
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == ["best.safetensors", "done", "metrics.csv"], files
    assert load_tree(tmp_path / "run" / "best.safetensors")["global_step"] == 2 * 4


@pytest.mark.slow  # two torchrun launchers, each starting a training process
def test_two_hosts_of_one_process_each_train_as_one(tmp_path, fkd_dir):
    """torchrun --nnodes 2, one launcher per "host" (both here): ranks still end identical."""
    worker = Path(__file__).with_name("ddp_worker.py")
    port = _free_port()
    launchers = [
        subprocess.Popen(
            [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node-rank", str(node),
             "--nproc-per-node", "1", "--master-addr", "127.0.0.1", "--master-port", str(port), str(worker),
             str(fkd_dir / "training.zip"), str(tmp_path), "1", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for node in (0, 1)
    ]
    for launcher in launchers:
        _, stderr = launcher.communicate(timeout=300)
        assert launcher.returncode == 0, stderr[-3000:]
    rank0 = load_file(tmp_path / "ranks" / "rank0.safetensors")
    rank1 = load_file(tmp_path / "ranks" / "rank1.safetensors")
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    assert load_tree(tmp_path / "run" / "best.safetensors")["global_step"] == 2 * 4
