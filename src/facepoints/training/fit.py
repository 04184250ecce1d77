"""One model, one training set: Lightning does the loop, checkpoints, early stopping and DDP."""

from __future__ import annotations

import csv
import io
import logging
import os
import warnings
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint, RichProgressBar
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter
from pytorch_lightning.loggers.logger import rank_zero_experiment
from torch._dynamo.exc import BackendCompilerFailed
from torch._inductor.exc import GPUTooOldForTriton, TritonMissing

from facepoints.data import KeypointSet
from facepoints.data.mixed import StackedScheme, target_scheme
from facepoints.errors import FacepointsError
from facepoints.fileio import write_text_atomic
from facepoints.models import create_model
from facepoints.training.checkpoint_io import SafetensorsCheckpointIO, load_tree
from facepoints.training.config import TrainConfig
from facepoints.training.heads import SchemeHeads
from facepoints.training.module import KeypointModule
from facepoints.training.resident import ResidentBatches
from facepoints.training.transfer import FrozenEncoder, start_from
from facepoints.training.weights import read_trained

CHECKPOINT_SUFFIX = ".safetensors"
RESUME_EVERY = 5  # epochs between full (optimizer included) checkpoints
GPU_HOST_THREADS = 4  # a GPU run's host work: collating batches and launching kernels


def limit_host_threads() -> None:
    """On a GPU, cap this process's CPU threads unless OMP_NUM_THREADS sets them.

    PyTorch takes every core by default, and the spinning threads of runs that share a machine
    starve each other; a few threads each keep them fast, and are faster even alone
    (docs/benchmarks.md)."""
    if torch.cuda.is_available() and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(min(torch.get_num_threads(), GPU_HOST_THREADS))


def _precision(config: TrainConfig) -> str:
    if config.precision != "auto":
        return config.precision
    return "bf16-mixed" if torch.cuda.is_available() else "32-true"


def build_module(config: TrainConfig, ks: KeypointSet) -> KeypointModule:
    try:
        model = create_model(
            config.model, target_scheme(ks.scheme).num_keypoints, in_chans=ks.channels, image_size=ks.image_size[0],
            **config.model_cfg,
        )
    except (TypeError, ValueError, KeyError) as e:  # an unknown architecture or option
        raise FacepointsError(f"model {config.model!r} with options {config.model_cfg}: {e}") from None
    if config.init:
        start_from(model, read_trained(config.init), target_scheme(ks.scheme))
    heads = SchemeHeads(ks.scheme) if isinstance(ks.scheme, StackedScheme) else None
    return KeypointModule(model, config, ks.scheme.flip_permutation(), heads)


class _AppendingWriter(ExperimentWriter):
    """Lightning's writer deletes a metrics.csv it finds; this one appends to it, under its header."""

    def _check_log_dir_exists(self) -> None:
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                self.metrics_keys = list(csv.DictReader(file).fieldnames or [])


class ResumableCSVLogger(CSVLogger):
    """metrics.csv across a kill and resume: the epochs before it stay (Lightning's logger deleted them)."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment


class ConfiguredEarlyStopping(EarlyStopping):
    """Resumes the count of epochs without improvement but keeps the patience it was given:
    Lightning restores the checkpoint's, so a run resumed with more patience stopped at once."""

    @property
    def state_key(self) -> str:  # the plain callback's key, so earlier checkpoints resume too
        return f"EarlyStopping{dict(monitor=self.monitor, mode=self.mode)!r}"

    def load_state_dict(self, state_dict: dict) -> None:
        patience = self.patience
        super().load_state_dict(state_dict)
        self.patience = patience


def keep_metrics_through(metrics: Path, epoch: int) -> None:
    """Before resuming after ``epoch``: drop the rows of the epochs the run will do again."""
    if not metrics.is_file():
        return
    with open(metrics, newline="") as file:
        reader = csv.DictReader(file)
        rows = [r for r in reader if r.get("epoch") and int(r["epoch"]) <= epoch]
        kept = io.StringIO()
        writer = csv.DictWriter(kept, fieldnames=reader.fieldnames or [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    write_text_atomic(metrics, kept.getvalue())


def fit_module(
    config: TrainConfig, train_set: KeypointSet, val_set: KeypointSet | None, work_dir: Path,
    progress: bool | RichProgressBar = True,
) -> KeypointModule:
    """Train (or resume, or reload a finished) module in ``work_dir``; return it with its best weights.
    ``progress``: show a bar (True), none, or this bar (training.progress.TrainingProgress)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    limit_host_threads()
    pl.seed_everything(config.seed, workers=True, verbose=False)
    module = build_module(config, train_set)
    if hasattr(module.model, "fit"):  # closed-form start (the mean-shape benchmark)
        module.model.fit(torch.from_numpy(train_set.points), torch.from_numpy(train_set.mask))

    best = work_dir / f"best{CHECKPOINT_SUFFIX}"
    done = work_dir / "done"
    if not done.exists() and config.epochs > 0:
        validate = val_set is not None and len(val_set) > 0
        # Best weights whenever validation improves; the full state for resuming every few epochs.
        best_weights = ModelCheckpoint(
            dirpath=work_dir, filename="best", monitor="val_rmse" if validate else None, mode="min",
            save_top_k=1, save_weights_only=True,
        )
        resumable = ModelCheckpoint(dirpath=work_dir, filename="last", every_n_epochs=RESUME_EVERY, save_top_k=1)
        for checkpoint in (best_weights, resumable):
            checkpoint.FILE_EXTENSION = CHECKPOINT_SUFFIX
        callbacks = [best_weights, resumable]
        if validate:
            callbacks.append(ConfiguredEarlyStopping("val_rmse", patience=config.patience, mode="min"))
        if config.freeze_epochs:
            callbacks.append(FrozenEncoder(config.freeze_epochs))
        if progress:
            callbacks.append(progress if isinstance(progress, RichProgressBar) else RichProgressBar(leave=False))
        trainer = pl.Trainer(
            max_epochs=config.epochs,
            accelerator="auto",
            devices=config.devices,
            num_nodes=config.nodes,
            precision=_precision(config),
            callbacks=callbacks,
            logger=ResumableCSVLogger(work_dir, name="", version=""),
            plugins=[SafetensorsCheckpointIO()],
            enable_progress_bar=progress,
            enable_model_summary=False,
            benchmark=True,  # fixed batch shapes: cuDNN picks each convolution's fastest kernel once
            log_every_n_steps=1,
            num_sanity_val_steps=0,
        )
        last = work_dir / f"last{CHECKPOINT_SUFFIX}"
        if last.exists() and trainer.is_global_zero:
            keep_metrics_through(work_dir / "metrics.csv", int(load_tree(last)["epoch"]))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            warnings.filterwarnings("ignore", ".*GPU available but not used.*")
            # Checkpoints go into the run's own folder, which holds its config already.
            warnings.filterwarnings("ignore", ".*exists and is not empty.*")
            warnings.filterwarnings("ignore", ".*LeafSpec.*")
            try:
                trainer.fit(
                    module,
                    train_dataloaders=ResidentBatches(train_set, config.batch_size, trainer, shuffle=True,
                                                      seed=config.seed, balance=config.balance),
                    val_dataloaders=ResidentBatches(val_set, 256, trainer, shuffle=False) if validate else None,
                    ckpt_path=str(last) if last.exists() else None,
                )
            except (BackendCompilerFailed, TritonMissing, GPUTooOldForTriton) as e:  # say how to go on
                reason = str(e).strip().splitlines()[0]
                raise FacepointsError(f"compiling the training step failed ({reason}); train with --no-compile") from None
        if trainer.is_global_zero:
            done.write_text("finished\n")
    if best.exists():  # every rank: later stages (pseudo labels) must agree across ranks
        state = load_tree(best)["state_dict"]
        module.load_state_dict(state)
    return module.eval()


logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)
logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
