"""Head pose (yaw, pitch, roll in degrees) from a face's 68 points and a generic 3-D face.

The convention, in the picture as shown (x right, y down, OpenCV's camera frame):
- zero: the face looks straight at the camera, upright (eye line level, the plane of the eyes and
  mouth corners facing the camera);
- yaw > 0: the face turns toward the image's right (the subject's left);
- pitch > 0: the face tilts up (chin up);
- roll > 0: the head tilts counter-clockwise in the picture, as an image rotated by a positive
  angle (``cv2.getRotationMatrix2D``, ``PIL.Image.rotate``) tilts it.
The head's rotation is ``Rz(-roll) @ Ry(-yaw) @ Rx(-pitch)`` (camera frame, applied to the head's
axes): roll is outermost, so turning the picture in its plane changes roll alone, and mirroring it
negates yaw and roll. The camera is centred on the face (principal point at the points' centroid),
so a face's pose does not depend on where in the frame it sits.

The 3-D face (assets/face68_3d.json) was fitted to 300-W training faces by tools/fit_face3d.py.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import cv2
import numpy as np

# Focal length in units of the face's extent: a face filling about a quarter of a normal lens's view.
FOCAL_PER_FACE = 4.0


@dataclass(frozen=True)
class HeadPose:
    yaw: float
    pitch: float
    roll: float

    def as_dict(self, decimals: int = 1) -> dict:
        return {"yaw": round(self.yaw, decimals), "pitch": round(self.pitch, decimals), "roll": round(self.roll, decimals)}

    @property
    def rotation(self) -> np.ndarray:
        """3x3: the head's x (subject's left), y (down) and z (back of the head) axes in the camera frame."""
        return _rz(-self.roll) @ _ry(-self.yaw) @ _rx(-self.pitch)


@functools.cache
def face_model() -> np.ndarray:
    """(68, 3) generic face in mm, in the head frame: x to the subject's left, y down, z away from the camera."""
    text = (resources.files("facepoints") / "assets" / "face68_3d.json").read_text()
    return np.array(json.loads(text)["points"], np.float64)


def head_pose(points: np.ndarray) -> HeadPose:
    """(68, 2) ibug68 points in pixels -> the head's pose."""
    points = np.asarray(points, np.float64)
    centre = points.mean(0)
    focal = FOCAL_PER_FACE * float(np.ptp(points, axis=0).max() or 1.0)
    camera = np.array([[focal, 0, centre[0]], [0, focal, centre[1]], [0, 0, 1]])
    ok, rvec, _ = cv2.solvePnP(face_model(), points, camera, None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        return HeadPose(float("nan"), float("nan"), float("nan"))
    r = cv2.Rodrigues(rvec)[0]
    # R = Rz(c) Ry(b) Rx(a) (ZYX Tait-Bryan angles); yaw, pitch, roll are -b, -a, -c.
    b = np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))
    a, c = np.arctan2(r[2, 1], r[2, 2]), np.arctan2(r[1, 0], r[0, 0])
    yaw, pitch, roll = np.degrees([-b, -a, -c])
    return HeadPose(float(yaw), float(pitch), float(roll))


def _rx(degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
