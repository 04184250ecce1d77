"""Odd pictures: noise and blank frames stand out from the real FKD faces; the faces do not."""

import numpy as np

from facepoints.audit.features import working_images
from facepoints.audit.images import check_images


def test_noise_and_blank_pictures_stand_out(fkd):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (96, 96)).astype(np.uint8)
    blank = np.full((96, 96), 128, np.uint8)
    images = np.concatenate([fkd.images, np.stack([noise, blank])])
    findings = {f.index: f for f in check_images(working_images(images), (96, 96))}
    assert findings[len(fkd)].reason.startswith("grainy like noise, not a photo of a face")
    assert findings[len(fkd) + 1].reason == "blank picture (grey levels vary by 0.0)"
    ranked = sorted(findings.values(), key=lambda f: -f.score)
    assert {f.index for f in ranked[:2]} == {len(fkd), len(fkd) + 1}


def test_real_faces_are_rarely_odd(fkd, fkd_audit):
    odd = [s for s in fkd_audit.suspects if s.kind == "image"]
    assert 1 <= len(odd) <= 15
    # The strongest are faces cut at the top of their frame: a black band pads them.
    top = odd[0]
    assert top.reason.startswith("straight seam across the picture at row")
    band_rows = int(top.reason.split("row ")[1].split()[0])
    assert fkd.images[top.index, : band_rows - 1].max() < 30 < fkd.images[top.index, band_rows + 1:].mean()
