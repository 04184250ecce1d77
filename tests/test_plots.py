"""Plots a reader must be able to tell apart."""

import numpy as np

from facepoints import plots
from facepoints.evaluation import ced_curve


def test_ced_curves_past_the_colour_cycle_still_look_different(monkeypatch, tmp_path):
    """A benchmark run plots 14 methods; matplotlib's cycle has 10 colours, and dlib's curve once
    shared its colour and style with one of ours."""
    saved = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: saved.append(fig) or path)
    rng = np.random.default_rng(0)
    curves = {f"method {i}": ced_curve(rng.gamma(4, 0.01 + 0.001 * i, 200)) for i in range(14)}
    plots.ced_plot(curves, tmp_path / "ced.png")
    lines = saved[0].axes[0].get_lines()
    assert [line.get_label() for line in lines] == list(curves)
    assert len({(line.get_color(), line.get_linestyle()) for line in lines}) == 14
