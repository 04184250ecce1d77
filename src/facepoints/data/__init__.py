"""Readers: one function per file layout, returning a KeypointSet or images."""

from facepoints.data.keypoint_set import KeypointSet
from facepoints.data.load import load_dataset

__all__ = ["KeypointSet", "load_dataset"]
