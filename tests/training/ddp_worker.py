"""One rank of the 2-process CPU data-parallel tests (launched by torchrun from test_ddp.py):
 two processes on one host, or one on each of two "hosts"."""

import sys
from pathlib import Path

import torch.distributed as dist
from safetensors.torch import save_file

from facepoints.data.fkd import read_fkd_training
from facepoints.training.config import recipe
from facepoints.training.fit import fit_module

data, out = Path(sys.argv[1]), Path(sys.argv[2])
devices, nodes = (int(v) for v in sys.argv[3:5]) if len(sys.argv) > 3 else (2, 1)
compile_step = sys.argv[5:] == ["compiled"]
faces = read_fkd_training(data).subset(slice(0, 128))
config = recipe("default", model="lenet5", strategy="masked", epochs=2, batch_size=16, devices=devices,
                nodes=nodes, flip_tta=False, compile=compile_step)
module = fit_module(config, faces, faces.subset(slice(0, 32)), out / "run", progress=False)
rank = dist.get_rank()
(out / "ranks").mkdir(exist_ok=True)
save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(out / "ranks" / f"rank{rank}.safetensors"))
