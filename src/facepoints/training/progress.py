"""The training progress bar: epochs counted from 1, the stage of a two-stage strategy, and an
estimate of the time left for the whole run, not only the epoch."""

from __future__ import annotations

import time
from datetime import timedelta

from pytorch_lightning.callbacks import RichProgressBar


class TrainingProgress(RichProgressBar):
    """Lightning's rich bar, described as ``stage 1/2: masked · epoch 3/250 · at most 0:41:10 left``.

    ``stage`` names the stage and ``later_epochs`` counts the epochs of the stages still to come,
    so the estimate covers them too (at this stage's pace; early stopping can end sooner)."""

    def __init__(self, stage: str = "", later_epochs: int = 0):
        super().__init__(leave=False)
        self.stage, self.later_epochs = stage, later_epochs
        self._started: float | None = None
        self._first_epoch = 0

    def on_train_start(self, trainer, pl_module) -> None:
        super().on_train_start(trainer, pl_module)
        self._started, self._first_epoch = time.monotonic(), trainer.current_epoch

    def _get_train_description(self, current_epoch: int) -> str:
        parts = [self.stage] if self.stage else []
        parts.append(f"epoch {current_epoch + 1}/{self.trainer.max_epochs}")
        done = current_epoch - self._first_epoch
        if done > 0 and self._started is not None:
            pace = (time.monotonic() - self._started) / done
            left = self.trainer.max_epochs - current_epoch + self.later_epochs
            parts.append(f"at most {timedelta(seconds=round(pace * left))} left")
        return " · ".join(parts)
