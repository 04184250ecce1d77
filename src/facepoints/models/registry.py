"""Model registry (timm's pattern): architectures register a factory; `create_model` builds them."""

from __future__ import annotations

from typing import Callable

from torch import nn

ModelFactory = Callable[..., nn.Module]

_model_factories: dict[str, ModelFactory] = {}


def register_model(factory: ModelFactory) -> ModelFactory:
    """Register `factory` under its function name, so `create_model(name, ...)` can build it."""
    name = factory.__name__
    if name in _model_factories:
        raise ValueError(f"model {name!r} is already registered")
    _model_factories[name] = factory
    return factory


def list_models() -> list[str]:
    """Names of every registered architecture, sorted."""
    return sorted(_model_factories)


def create_model(
    name: str, num_keypoints: int, in_chans: int = 1, image_size: int = 96, **cfg
) -> nn.Module:
    """Build model `name`: (N, in_chans, image_size, image_size) in [0, 1] -> (N, K, 2) pixels.

    `cfg` holds architecture-specific options (e.g. ``width`` for ``integral``); a factory
    rejects options it does not know.
    """
    try:
        factory = _model_factories[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(list_models())}") from None
    if num_keypoints < 1 or in_chans < 1 or image_size < 1:
        raise ValueError(
            f"num_keypoints, in_chans and image_size must be positive, got "
            f"{num_keypoints}, {in_chans}, {image_size}"
        )
    return factory(num_keypoints=num_keypoints, in_chans=in_chans, image_size=image_size, **cfg)
