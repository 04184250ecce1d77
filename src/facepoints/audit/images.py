"""Pictures unlike the others: blank, noise, drawings, collages and padded frames.

Outliers in simple picture statistics, each a robust z-score against the set itself, so no
outside model decides what a face is:
- grain: gradient energy at full size against half size. Photos lose little when halved (their
  detail is coarse); noise loses most. Camera faces of FKD reach 5 SD, drawn noise 16.
- flat: share of pixels with no gradient. Drawings and cartoons are flat between their lines
  (a posterized FKD face: 4.5 SD, so only starker drawings pass SUSPECT_Z).
- seam: a straight line across the picture where brightness jumps along most of it, as between
  the tiles of a collage or at the edge of a black band that pads a face cut at a photo's border.
"""

from __future__ import annotations

import numpy as np

from facepoints.audit.findings import Finding

SUSPECT_Z = 6.0  # FKD: 7 real pictures reach it, mostly black bands of padded frames; a 2x2 collage of faces 5.4
BLANK_CONTRAST = 4.0  # grey-level standard deviation below which a picture shows nothing
BLANK_SCORE = 20.0  # a blank picture is as certain as an exact duplicate
FLAT_STEP = 1.0  # grey levels: a pixel whose gradient is below this is flat
SEAM_MARGIN = 6  # px of the working copy's border where a line is the frame's own edge


def check_images(grey: np.ndarray, image_size: tuple[int, int]) -> list[Finding]:
    """One finding per odd picture, with the test that found it most odd; image_size (H, W) of
    the originals, to say where a seam is in their pixels."""
    contrast = grey.std(axis=(1, 2))
    magnitude = _gradient_magnitude(grey)
    grain = _robust_z(np.log((magnitude ** 2).mean(axis=1) + 1)
                      - np.log((_gradient_magnitude(_halve(grey)) ** 2).mean(axis=1) + 1))
    flat = _robust_z(np.log((magnitude < FLAT_STEP).mean(axis=1) + 1e-3))
    seam, seam_place = _seams(grey, image_size)
    findings = []
    for index in range(len(grey)):
        if contrast[index] < BLANK_CONTRAST:
            findings.append(Finding(index, "image", BLANK_SCORE, f"blank picture (grey levels vary by {contrast[index]:.1f})"))
            continue
        score, reason = max([
            (grain[index], f"grainy like noise, not a photo of a face (fine detail {grain[index]:.0f} SD above the others)"),
            (flat[index], f"flat areas like a drawing, not a photo (flat share {flat[index]:.0f} SD above the others)"),
            (seam[index], f"straight seam across the picture at {seam_place[index]} (collage or padding?)"),
        ])
        if score >= SUSPECT_Z:
            findings.append(Finding(index, "image", float(score), reason))
    return findings


def _gradient_magnitude(grey: np.ndarray) -> np.ndarray:
    """(N, pixels) forward-difference gradient magnitude."""
    dx = np.diff(grey, axis=2)[:, :-1, :]
    dy = np.diff(grey, axis=1)[:, :, :-1]
    return np.hypot(dx, dy).reshape(len(grey), -1)


def _halve(grey: np.ndarray) -> np.ndarray:
    n, h, w = grey.shape
    return grey[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2).mean(axis=(2, 4))


def _seams(grey: np.ndarray, image_size: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
    """(z of the strongest straight edge, where it is in the original's pixels) per picture.

    A seam is a row (or column) boundary along which the brightness step is large for most of the
    width: the median step along the line, against the picture's typical line."""
    steps = {"row": (np.median(np.abs(np.diff(grey, axis=1)), axis=2), image_size[0]),
             "column": (np.median(np.abs(np.diff(grey, axis=2)), axis=1), image_size[1])}
    strengths, places = [], []
    for name, (step, original) in steps.items():
        inner = step[:, SEAM_MARGIN:-SEAM_MARGIN]
        ratio = inner / (np.median(step, axis=1, keepdims=True) + 1.0)
        strengths.append(np.log1p(ratio.max(axis=1)))
        scale = original / grey.shape[1]
        places.append([f"{name} {round((SEAM_MARGIN + 1 + i) * scale)}" for i in ratio.argmax(axis=1)])
    which = np.argmax(np.stack(strengths), axis=0)
    return _robust_z(np.choose(which, strengths)), [places[w][i] for i, w in enumerate(which)]


def _robust_z(values: np.ndarray) -> np.ndarray:
    median = np.median(values)
    spread = max(1.4826 * np.median(np.abs(values - median)), 1e-9)
    return (values - median) / spread
