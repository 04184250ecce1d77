"""Detector registry (the pattern of `models/registry.py`): detectors register a factory by name;
`create_detector` builds them."""

from __future__ import annotations

from typing import Callable

from facepoints.detectors.base import Detector
from facepoints.errors import FacepointsError

DetectorFactory = Callable[..., Detector]

_detector_factories: dict[str, DetectorFactory] = {}


def register_detector(name: str) -> Callable[[DetectorFactory], DetectorFactory]:
    """Register the decorated factory under ``name``, so `create_detector(name, ...)` can build it."""

    def register(factory: DetectorFactory) -> DetectorFactory:
        if name in _detector_factories:
            raise ValueError(f"detector {name!r} is already registered")
        _detector_factories[name] = factory
        return factory

    return register


def list_detectors() -> list[str]:
    """Names of every registered detector, sorted."""
    return sorted(_detector_factories)


def create_detector(name: str, **options) -> Detector:
    """Build detector ``name``; ``options`` go to its factory (e.g. ``threshold`` for yunet)."""
    try:
        factory = _detector_factories[name]
    except KeyError:
        raise FacepointsError(f"unknown face detector {name!r}; choose one of {', '.join(list_detectors())}") from None
    return factory(**options)
