"""Training configuration and the named recipes: the seed notebooks' and our default."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from facepoints.errors import FacepointsError

STRATEGIES = ("masked", "drop", "ffill", "mean", "linear", "pseudo", "split")


@dataclass(frozen=True)
class TrainConfig:
    model: str = "integral"
    model_cfg: dict = field(default_factory=dict)
    # How rows with missing keypoints are used; see training/strategies.py.
    strategy: str = "masked"
    augment: str = "full"  # a transforms.AUGMENT_PRESETS name
    loss: str = "l1"  # l1 | mse
    optimizer: str = "adamw"  # adamw | adam
    schedule: str = "cosine"  # cosine | constant
    epochs: int = 250
    batch_size: int = 64
    lr: float = 2e-3
    warmup: float = 0.05  # share of the steps (at most 500) over which the learning rate rises
    weight_decay: float = 1e-4
    patience: int = 60  # epochs without a better validation RMSE before stopping
    val_fraction: float = 0.2
    seed: int = 0
    # How often each of several --data sets is drawn: in proportion to its size to this power.
    # 1 draws every face once an epoch (each set as large as it is); 0 draws every set equally
    # often, so a small set is not drowned by a large one (training/resident.py).
    balance: float = 1.0
    # Learn where the labels' origin sits relative to pixel centres (1-based labels sit +1 px),
    # so flips and rotations move labels exactly as they move pixels.
    learn_label_offset: bool = True
    flip_tta: bool = True  # average with the prediction on the mirrored face
    ensemble: int = 1  # independently seeded models averaged at inference
    precision: str = "auto"  # auto: bf16-mixed on CUDA, 32-true on CPU
    # Compile augmentation + forward + loss into fused kernels (None: on a GPU where Triton is
    # installed). A small model's step is bound by its host time, not by the GPU; fusing cuts
    # both (docs/benchmarks.md).
    compile: bool | None = None
    # Replay the step's forward and backward as one CUDA graph, on a single GPU: the host then
    # launches one graph a step instead of every kernel. Off until its whole-run accuracy has been
    # measured on a GPU (docs/benchmarks.md, training on the GPU).
    graph: bool = False
    devices: int = 1  # GPUs (or CPU processes) per host
    nodes: int = 1  # hosts, each started by torchrun --nnodes
    # Start from a trained model's weights (a bundled name or a run folder; training/transfer.py),
    # its encoder frozen for the first freeze_epochs epochs.
    init: str | None = None
    freeze_epochs: int = 0

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise FacepointsError(f"unknown strategy {self.strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if self.loss not in ("l1", "mse"):
            raise FacepointsError(f"unknown loss {self.loss!r}; choose l1 or mse")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, path: str | Path) -> "TrainConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def but(self, **changes) -> "TrainConfig":
        return replace(self, **changes)


# The seed notebooks' recipes, re-created, and the default. The seeds trained with MSE, Adam,
# constant learning rates and little or no augmentation.
_SEED = TrainConfig(
    loss="mse", optimizer="adam", schedule="constant", lr=1e-3, weight_decay=0.0,
    epochs=150, patience=25, learn_label_offset=False, flip_tta=False,
)
RECIPES: dict[str, TrainConfig] = {
    "mean": _SEED.but(model="mean", augment="none", lr=5e-2, epochs=60),
    "nouri": _SEED.but(model="nouri", strategy="drop", augment="flip"),
    "lenet5": _SEED.but(model="lenet5", strategy="split", augment="flip_brightness"),
    "vgg_like": _SEED.but(model="vgg_like", strategy="ffill", augment="none"),
    "conv12": _SEED.but(model="conv12", strategy="ffill", augment="none"),
    "conv4": _SEED.but(model="conv4", strategy="drop", augment="none"),
    # Pseudo-labels beat the masked loss on every identity split measured, at a modest training
    # time (docs/benchmarks.md).
    "default": TrainConfig(strategy="pseudo"),
    # 68 points on photos (aligned 128 px RGB crops of faces68 + 300-W): the bundled ibug68. Width 48
    # beat 32 on every seed tried (docs/benchmarks.md).
    "photo68": TrainConfig(augment="photo", epochs=300, batch_size=128, patience=40, model_cfg={"width": 48}),
    # The same faces for the bundled ibug68-fast: several times faster per face on a CPU, for a
    # little more NME (docs/benchmarks.md). Twice the epochs, run to the end: early stopping
    # halted it on a plateau of the still-high learning rate, and the later epochs lowered its NME.
    "photo68-fast": TrainConfig(model="mobile", augment="photo", epochs=600, batch_size=128, patience=600),
    # Fine-tuning a trained model (--init) on a few hundred faces: a tenth of the learning rate,
    # a longer warm-up, few epochs (docs/benchmarks.md).
    "finetune": TrainConfig(strategy="masked", augment="photo", lr=2e-4, warmup=0.1, epochs=30, batch_size=32,
                            patience=10, freeze_epochs=2),
}


def recipe(name: str, **overrides) -> TrainConfig:
    """A named recipe with some settings changed; another model drops the recipe's model options."""
    try:
        base = RECIPES[name]
    except KeyError:
        raise FacepointsError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}") from None
    if overrides.get("model", base.model) != base.model and "model_cfg" not in overrides:
        overrides["model_cfg"] = {}
    return base.but(**overrides)
