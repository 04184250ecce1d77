"""7,000 Kaggle-size faces (the real 2,811, tiled, moved and re-noised) audited in under 2 minutes."""

import time

import numpy as np
import pytest

from facepoints.audit import audit_keypoint_set, write_suspects
from facepoints.audit.report import write_report
from facepoints.data.keypoint_set import KeypointSet


@pytest.mark.slow
def test_seven_thousand_faces_in_two_minutes(fkd, tmp_path):
    rng = np.random.default_rng(0)
    n = 7000
    source = np.arange(n) % len(fkd)
    shift = rng.integers(-2, 3, (n, 2))
    shift[: len(fkd)] = 0
    images = np.empty((n, 96, 96), np.uint8)
    for i, (s, (dx, dy)) in enumerate(zip(source, shift)):
        moved = np.roll(fkd.images[s].astype(np.int16), (dy, dx), axis=(0, 1))
        noise = rng.integers(-3, 4, moved.shape) if i >= len(fkd) else 0
        images[i] = np.clip(moved + noise, 0, 255)
    tiled = KeypointSet(images=images, points=fkd.points[source] + shift[:, None, :].astype(np.float32),
                        mask=fkd.mask[source], scheme=fkd.scheme)
    started = time.perf_counter()
    result = audit_keypoint_set(tiled)
    write_suspects(tmp_path / "suspects.csv", result.suspects)
    write_report(tmp_path / "report.html", result)
    seconds = time.perf_counter() - started
    assert seconds < 120, f"{seconds:.0f} s"
    copies = {s.index for s in result.suspects if s.kind == "duplicate"}
    assert len(copies & set(range(len(fkd), n))) > 0.95 * (n - len(fkd))
