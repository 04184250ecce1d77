"""facepoints: facial keypoints in photos and video."""

__version__ = "0.1.0"
