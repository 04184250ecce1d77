"""Pictures that are not like the others: not a face, blank, or with a seam (collage, padding).

Three robust outlier tests, each a z-score against the set itself, so no outside model decides
what a face is:
- face space: distance of the face's gradient features from the principal components of all
  faces, inside and outside that space (Moghaddam and Pentland's DIFS + DFFS);
- pixels: the same for the thumbnail's grey values, which catches noise and drawings;
- seam: a straight line across the picture where brightness jumps, as between the tiles of a
  collage or at the edge of a black band that pads a face cut at the photo's border.
"""

from __future__ import annotations

import numpy as np

from facepoints.audit.features import fit_face_space
from facepoints.audit.findings import Finding

SUSPECT_Z = 6.0  # FKD's 2,811 real faces reach 5.x on the face tests; drawn noise scores 10+
BLANK_CONTRAST = 4.0  # grey-level standard deviation below which a picture shows nothing
FACE_COMPONENTS = 20
PIXEL_COMPONENTS = 50
SEAM_MARGIN = 6  # px of the working copy's border where a seam is the frame's own edge


def check_images(grey: np.ndarray, features: np.ndarray, image_size: tuple[int, int]) -> list[Finding]:
    """One finding per odd picture, with the test that found it most odd; image_size (H, W) of
    the originals, to say where a seam is in their pixels."""
    contrast = grey.std(axis=(1, 2))
    tests = {
        "not a photo of a face (its gradients are {:.0f} SD from the faces' own)": _robust_z(
            _face_space_distance(features, FACE_COMPONENTS)),
        "not like the other pictures (its pixels are {:.0f} SD from theirs)": _robust_z(
            _face_space_distance(_thumbnail_pixels(grey), PIXEL_COMPONENTS)),
    }
    seam_z, seam_where = _seams(grey, image_size)
    findings = []
    for index in range(len(grey)):
        if contrast[index] < BLANK_CONTRAST:
            findings.append(Finding(index, "image", 10.0 + BLANK_CONTRAST - contrast[index],
                                    f"blank picture (grey levels vary by {contrast[index]:.1f})"))
            continue
        candidates = [(z[index], template.format(z[index])) for template, z in tests.items()]
        candidates.append((seam_z[index], f"straight seam across the picture at {seam_where[index]} "
                                          "(collage or padding?)"))
        score, reason = max(candidates)
        if score >= SUSPECT_Z:
            findings.append(Finding(index, "image", float(score), reason))
    return findings


def _face_space_distance(features: np.ndarray, components: int) -> np.ndarray:
    """log of the squared Mahalanobis distance in the principal space plus the residual outside it."""
    space = fit_face_space(features, components)
    projected = space.project(features)
    inside = (projected ** 2 / np.maximum(space.variances, 1e-12)).sum(axis=1)
    residual = (features - space.mean) - projected @ space.components.T
    outside = (residual ** 2).sum(axis=1) / max(space.rest_variance, 1e-12)
    return np.log(inside + outside + 1e-12)


def _thumbnail_pixels(grey: np.ndarray) -> np.ndarray:
    """(N, 576) 24x24 grey thumbnails, each brought to mean 0 and standard deviation 1."""
    n, side = len(grey), grey.shape[1] // 24
    thumbs = grey.reshape(n, 24, side, 24, side).mean(axis=(2, 4)).reshape(n, -1)
    thumbs -= thumbs.mean(axis=1, keepdims=True)
    return thumbs / np.maximum(thumbs.std(axis=1, keepdims=True), 1.0)


def _seams(grey: np.ndarray, image_size: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
    """(z of the strongest straight edge, where it is) for each picture.

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
    strength = np.choose(which, strengths)
    return _robust_z(strength), [places[w][i] for i, w in enumerate(which)]


def _robust_z(values: np.ndarray) -> np.ndarray:
    median = np.median(values)
    spread = max(1.4826 * np.median(np.abs(values - median)), 1e-9)
    return (values - median) / spread
