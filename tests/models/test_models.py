"""The model contract: shapes, pixel coordinates, gradients, ONNX parity and a tiny overfit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facepoints.models import create_model, list_models
from facepoints.models.common import to_normalized, to_pixels
from facepoints.models.integral import soft_argmax

SEED_MODELS = {"mean", "nouri", "lenet5", "vgg_like", "conv12", "conv4"}
HEATMAP_MODELS = ("integral", "mobile")
BACKBONES = {"mobilenet_v2", "densenet169", "xception", "efficientnet_lite0"}  # seed 003's, tests/models/test_backbones.py
INTEGRAL_STRIDE = create_model("integral", 1).stride


def test_registry_lists_every_architecture():
    assert set(list_models()) == SEED_MODELS | set(HEATMAP_MODELS) | BACKBONES


def test_unknown_model_is_a_key_error_naming_the_known_ones():
    with pytest.raises(KeyError, match="integral.*nouri"):
        create_model("resnet9000", 15)


def test_unknown_option_is_rejected():
    with pytest.raises(TypeError):
        create_model("nouri", 15, width=64)


def test_pixel_mapping_puts_pixel_centres_on_integers():
    u = torch.tensor([-1.0, 0.0, 1.0])
    assert to_pixels(u, 96).tolist() == [-0.5, 47.5, 95.5]
    assert torch.allclose(to_normalized(to_pixels(u, 96), 96), u)


def _model_cases() -> list:
    return [
        pytest.param(name, num_keypoints, in_chans, image_size,
                     id=f"{name}-k{num_keypoints}-c{in_chans}-{image_size}px")
        for name in list_models()
        for image_size in ((96, 128) if name in HEATMAP_MODELS else (96,))
        for num_keypoints in (15, 68)
        for in_chans in (1, 3)
    ]


@pytest.mark.parametrize("name,num_keypoints,in_chans,image_size", _model_cases())
def test_untrained_model_keeps_the_contract(name, num_keypoints, in_chans, image_size):
    torch.manual_seed(0)
    model = create_model(name, num_keypoints, in_chans=in_chans, image_size=image_size).eval()
    attributes = (model.num_keypoints, model.in_chans, model.image_size)
    assert attributes == (num_keypoints, in_chans, image_size)

    with torch.no_grad():
        points = model(torch.rand(2, in_chans, image_size, image_size))

    assert points.shape == (2, num_keypoints, 2) and points.dtype == torch.float32
    assert torch.isfinite(points).all()
    assert points.min() >= -0.5 and points.max() <= image_size - 0.5, "outside the image"
    centre = (image_size - 1) / 2
    assert (points - centre).abs().max() < image_size / 8, "an untrained net starts near the centre"


@pytest.mark.parametrize("name", list_models())
def test_gradient_reaches_every_parameter(name):
    torch.manual_seed(0)
    model = create_model(name, 15).train()
    points = model(torch.rand(4, 1, 96, 96))
    torch.nn.functional.mse_loss(points, torch.rand_like(points) * 96).backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None, f"{param_name} is not used"
        assert torch.isfinite(param.grad).all(), f"{param_name} has a non-finite gradient"
        assert param.grad.abs().sum() > 0, f"{param_name} gets no gradient"


def test_integral_fits_the_size_budget():
    model = create_model("integral", 68, in_chans=3)
    assert sum(p.numel() for p in model.parameters()) <= 4_000_000


@pytest.mark.parametrize("name", HEATMAP_MODELS)
def test_heatmap_models_reject_sizes_their_strides_do_not_divide(name):
    with pytest.raises(ValueError, match="divisible"):
        create_model(name, 5, image_size=100)


@pytest.mark.parametrize("name", HEATMAP_MODELS)
def test_heatmaps_are_read_at_the_declared_stride(name):
    model = create_model(name, 5, image_size=128).eval()
    with torch.no_grad():
        heatmaps = model.heatmaps(torch.rand(1, 1, 128, 128))
    assert heatmaps.shape == (1, 5, 128 // model.stride, 128 // model.stride)


def test_mobile_costs_a_tenth_of_integral_at_the_photo_width():
    """Why it exists: multiply-adds per 128 px face, against the bundled ibug68's width 48."""
    from torch.utils.flop_counter import FlopCounterMode

    def multiply_adds(model):
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model.eval()(torch.rand(1, 3, 128, 128))
        return counter.get_total_flops() / 2

    mobile = multiply_adds(create_model("mobile", 68, in_chans=3, image_size=128))
    integral = multiply_adds(create_model("integral", 68, in_chans=3, image_size=128, width=48))
    assert mobile < integral / 10, (mobile, integral)


@pytest.mark.parametrize("stride", sorted({1, INTEGRAL_STRIDE}))
def test_soft_argmax_returns_the_peak_cells_pixel_centre(stride):
    h, w = 24, 20
    peaks = [(0, 0), (h - 1, w - 1), (3, 17), (15, 2)]  # (row, col); rows != cols catches x/y swaps
    logits = torch.zeros(2, len(peaks), h, w)
    for k, (row, col) in enumerate(peaks):
        logits[:, k, row, col] = 50.0

    points = soft_argmax(logits, stride)

    centre = lambda i: i * stride + (stride - 1) / 2  # noqa: E731
    expected = torch.tensor([[centre(col), centre(row)] for row, col in peaks]).expand(2, -1, -1)
    assert torch.allclose(points, expected, atol=0.05)


@pytest.mark.parametrize("name", list_models())
def test_coordinates_stay_float32_under_bf16_autocast(name):
    """bf16 has 8 significant bits: coordinates near 48 px would be 0.25 px apart."""
    model = create_model(name, 5).eval()
    x = torch.rand(2, 1, 96, 96)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert model(x).dtype == torch.float32
        if name in HEATMAP_MODELS:
            assert model.heatmaps(x).dtype == torch.float32


def test_mean_fit_sets_the_masked_mean():
    points = torch.tensor([[[10.0, 20.0], [float("nan"), float("nan")]],
                           [[30.0, 40.0], [50.0, 60.0]]])
    mask = torch.tensor([[True, False], [True, True]])
    model = create_model("mean", 2).fit(points, mask)
    predicted = model(torch.zeros(3, 1, 96, 96))
    assert predicted.shape == (3, 2, 2)
    expected = torch.tensor([[20.0, 30.0], [50.0, 60.0]]).expand(3, -1, -1)
    assert torch.allclose(predicted, expected, atol=1e-4)


def _export(model: torch.nn.Module, path, dynamo: bool) -> None:
    """Both exporter paths, as torch 2.11 (training) and 2.13 accept them, batch axis dynamic."""
    example = (torch.rand(2, model.in_chans, model.image_size, model.image_size),)
    names = {"input_names": ["image"], "output_names": ["keypoints"]}
    if dynamo:
        torch.onnx.export(model, example, str(path), dynamo=True, external_data=False, verbose=False,
                          dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, **names)
    else:
        torch.onnx.export(model, example, str(path), dynamo=False, opset_version=17,
                          dynamic_axes={"image": {0: "batch"}, "keypoints": {0: "batch"}}, **names)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "legacy"])
@pytest.mark.parametrize("name", [*HEATMAP_MODELS, "lenet5"])
def test_onnx_export_matches_pytorch(name, dynamo, tmp_path):
    import onnxruntime as ort

    torch.manual_seed(0)
    model = create_model(name, 15).eval()
    _export(model, tmp_path / "model.onnx", dynamo)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    images = torch.rand(5, 1, 96, 96)  # not the export batch size: the batch axis is dynamic

    (onnx_points,) = session.run(None, {"image": images.numpy()})

    with torch.no_grad():
        torch_points = model(images).numpy()
    assert onnx_points.shape == torch_points.shape
    assert np.abs(onnx_points - torch_points).max() < 1e-3


def _dot_images(points: torch.Tensor, image_size: int) -> torch.Tensor:
    """A Gaussian dot per keypoint, each keypoint its own brightness so the net can tell them apart."""
    grid = torch.arange(image_size, dtype=torch.float32)
    dx = grid - points[..., 0, None, None]
    dy = grid[:, None] - points[..., 1, None, None]
    brightness = torch.linspace(1.0, 0.4, points.shape[1])[None, :, None, None]
    return (brightness * torch.exp(-(dx**2 + dy**2) / (2 * 1.5**2))).amax(1, keepdim=True)


@pytest.mark.parametrize("name,cfg", [("integral", {"width": 16}), ("mobile", {})])
def test_heatmap_models_overfit_dots_to_subpixel_positions(name, cfg):
    torch.manual_seed(0)
    image_size, num_keypoints = 96, 3
    points = torch.rand(8, num_keypoints, 2) * (image_size - 24) + 12
    images = _dot_images(points, image_size)
    model = create_model(name, num_keypoints, image_size=image_size, **cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

    for _ in range(150):
        loss = (model(images) - points).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    with torch.no_grad():
        error = (model.eval()(images) - points).norm(dim=-1).mean()
    assert error < 2.0, f"mean error {error:.2f} px"
