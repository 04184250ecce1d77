"""Readers: one function per file layout, returning a KeypointSet or images."""

from facepoints.data.keypoint_set import KeypointSet

__all__ = ["KeypointSet"]
