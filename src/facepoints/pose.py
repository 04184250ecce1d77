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

import numpy as np

try:
    import cv2
except ImportError:  # the light install: _solve_pnp, in numpy
    cv2 = None

from facepoints.evaluation import FAILURE_NME, per_image_nme
from facepoints.schemes import Scheme, convert_points

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

    @classmethod
    def from_rotation(cls, r: np.ndarray) -> HeadPose:
        """The pose whose ``rotation`` is the 3x3 rotation r."""
        # R = Rz(c) Ry(b) Rx(a) (ZYX Tait-Bryan angles); yaw, pitch, roll are -b, -a, -c.
        b = np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))
        a, c = np.arctan2(r[2, 1], r[2, 2]), np.arctan2(r[1, 0], r[0, 0])
        yaw, pitch, roll = np.degrees([-b, -a, -c])
        return cls(float(yaw), float(pitch), float(roll))


@functools.cache
def face_model() -> np.ndarray:
    """(68, 3) generic face in mm, in the head frame: x to the subject's left, y down, z away from the camera."""
    text = (resources.files("facepoints") / "assets" / "face68_3d.json").read_text()
    return np.array(json.loads(text)["points"], np.float64)


def head_pose(points: np.ndarray) -> HeadPose:
    """(68, 2) ibug68 points in pixels -> the head's pose; NaNs where the points give none."""
    points = np.asarray(points, np.float64)
    unknown = HeadPose(float("nan"), float("nan"), float("nan"))
    if not np.isfinite(points).all():
        return unknown
    centre = points.mean(0)
    focal = FOCAL_PER_FACE * float(np.ptp(points, axis=0).max() or 1.0)
    try:
        r = (_opencv_pnp if cv2 else _solve_pnp)(face_model(), (points - centre) / focal)
    except np.linalg.LinAlgError:  # a singular step
        r = None
    return unknown if r is None else HeadPose.from_rotation(r)


def _opencv_pnp(model: np.ndarray, xy: np.ndarray) -> np.ndarray | None:
    """_solve_pnp's rotation by OpenCV's SQPnP (facepoints[fast]): the same pose, several times faster."""
    if _orthographic_fit(model, xy) is None:
        return None
    ok, rvec, _ = cv2.solvePnP(model, xy, np.eye(3), None, flags=cv2.SOLVEPNP_SQPNP)
    return cv2.Rodrigues(rvec)[0] if ok else None


def _orthographic_fit(model: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The scaled orthographic view of the model nearest the points: the rotation's first two rows
    and the scale; None where the points lie on a line or a point, so no pose fits them."""
    affine = np.linalg.lstsq(model - model.mean(0), xy - xy.mean(0), rcond=None)[0].T  # xy = scale * R[:2] @ X
    u, s, vt = np.linalg.svd(affine, full_matrices=False)
    return (u @ vt, s.mean()) if s[1] > 1e-3 * s[0] else None


def _solve_pnp(model: np.ndarray, xy: np.ndarray, steps: int = 20) -> np.ndarray | None:
    """The rotation (camera frame from model frame) that best lays (N, 3) model points on their (N, 2)
    image points seen by a camera of focal length 1 and principal point 0; None if degenerate.

    A small numpy solver, as OpenCV's solvePnP would be the only reason for OpenCV in the base
    install. It minimises what ``cv2.solvePnP(..., flags=cv2.SOLVEPNP_SQPNP)`` minimises: the
    reprojection errors each times its point's depth, which are linear in the pose (the plain
    errors' minimum lies up to about a degree away on 300-W faces). It starts from
    the scaled orthographic fit, and from its depth-flipped twin (which that view cannot tell apart),
    takes Gauss-Newton steps on (rotation vector, translation) from each and keeps the better pose
    in front of the camera.
    """

    def residuals(r, t):
        camera = model @ r.T + t
        return camera[:, :2] - xy * camera[:, 2:], camera

    fit = _orthographic_fit(model, xy)
    if fit is None:
        return None
    rows, scale = fit
    cross, eye = _cross_matrix(model), np.broadcast_to(np.eye(3), (len(model), 3, 3))
    best, best_cost = None, np.inf
    for flip in (1, -1):
        first, second = rows * [1, 1, flip]
        r = np.array([first, second, np.cross(first, second)])
        t = np.append(xy.mean(0), 1) / scale - r @ model.mean(0)
        for _ in range(steps):
            error, _ = residuals(r, t)
            d_camera = np.concatenate([-r @ cross, eye], 2)  # R exp([w]x) X + t moves by -R [X]x w
            jacobian = (d_camera[:, :2] - xy[:, :, None] * d_camera[:, 2:]).reshape(-1, 6)
            step = np.linalg.solve(jacobian.T @ jacobian, -jacobian.T @ error.ravel())
            r, t = r @ _rotation(step[:3]), t + step[3:]
            if np.abs(step[:3]).max() < 1e-6:  # radians
                break
        error, camera = residuals(r, t)
        if camera[:, 2].mean() > 0 and (error**2).sum() < best_cost:
            best, best_cost = r, (error**2).sum()
    return best


def _cross_matrix(v: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 3, 3): the matrices m with m @ u = v x u."""
    m = np.zeros(v.shape + (3,))
    m[..., 0, 1], m[..., 0, 2], m[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    return m - np.swapaxes(m, -1, -2)


def _rotation(w: np.ndarray) -> np.ndarray:
    """3x3 rotation by the rotation vector w (Rodrigues' formula)."""
    angle = np.sqrt(w @ w)
    k = _cross_matrix(w / angle) if angle > 0 else np.zeros((3, 3))
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def _rx(degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


# Bins of |yaw| (degrees) that validation reports break scores down by.
POSE_BINS = (("frontal", 0.0, 15.0), ("moderate", 15.0, 30.0), ("large", 30.0, 90.0))


@functools.cache
def _yaw_curve() -> tuple[np.ndarray, np.ndarray]:
    """The nose tip's offset from the eye midpoint, over the eye distance, of the generic face
    turned by 0-89 degrees (orthographic view): the ratio for each yaw."""
    yaws = np.arange(90.0)
    ratios = []
    for yaw in yaws:
        turned = (face_model() @ _ry(-yaw).T)[:, :2]
        eyes = turned[36:42].mean(0), turned[42:48].mean(0)
        ratios.append((turned[30, 0] - (eyes[0][0] + eyes[1][0]) / 2) / np.linalg.norm(eyes[1] - eyes[0]))
    return np.array(ratios), yaws


def label_yaw(points: np.ndarray, mask: np.ndarray, scheme: str) -> np.ndarray:
    """(N,) yaw in degrees of labelled faces of any scheme with eyes and nose tip, from the nose
    tip's offset from the eye midpoint along the eye line, over the eye distance (so in-plane
    roll does not read as yaw); NaN where those points are not labelled."""
    five, known = convert_points(points, mask, scheme, "celeba5")
    left, right, nose = five[:, 0], five[:, 1], five[:, 2]
    axis = right - left
    distance = np.linalg.norm(axis, axis=-1)
    ratio = ((nose - (left + right) / 2) * axis).sum(-1) / np.maximum(distance, 1e-6) ** 2
    ratios, yaws = _yaw_curve()
    yaw = np.sign(ratio) * np.interp(np.abs(ratio), ratios, yaws)
    return np.where(known[:, :3].all(1) & (distance > 0), yaw, np.nan)


def pose_bin(yaw: np.ndarray) -> np.ndarray:
    """(N,) index into POSE_BINS of each |yaw|; -1 where the yaw is unknown."""
    edges = [high for _, _, high in POSE_BINS[:-1]]
    return np.where(np.isfinite(yaw), np.digitize(np.abs(np.nan_to_num(yaw)), edges), -1)


def scores_by_pose(pred: np.ndarray, target: np.ndarray, mask: np.ndarray, scheme: Scheme) -> dict[str, dict]:
    """Per POSE_BINS bin of the labels' yaw: the number of faces, their NME and failure rate."""
    nme = per_image_nme(pred, target, mask, scheme)
    bins = pose_bin(label_yaw(target, mask, scheme.name))
    table = {}
    for index, (name, _, _) in enumerate(POSE_BINS):
        chosen = nme[(bins == index) & np.isfinite(nme)]
        table[name] = {"count": int(len(chosen)), "nme": float(chosen.mean()) if len(chosen) else float("nan"),
                       "failure_rate": float((chosen > FAILURE_NME).mean()) if len(chosen) else float("nan")}
    return table
