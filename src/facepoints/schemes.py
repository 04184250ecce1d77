"""Keypoint schemes as data: names, left/right flip pairs and mappings between schemes.

"left" and "right" follow each source's own convention and are kept as the sources name them:
in ``fkd15`` and ``ibug68`` they are the *subject's* sides (the left eye is on the image's
right), in ``celeba5`` they are the *image's* sides. Flip pairs are stated explicitly, so no code
ever swaps names by string matching.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Scheme:
    """An ordered set of named keypoints and which of them trade places on a horizontal flip."""

    name: str
    names: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    description: str = ""
    # Indices of the keypoints that Kaggle-style data sets label on nearly every row.
    core: tuple[int, ...] = field(default=())
    # A user's scheme (scheme files): for each point, the ibug68 points it sits near (the
    # bundled face model's head starts there), and for each celeba5 reference point (eyes, nose,
    # mouth corners) the points that make it (photos are framed by them). Empty: not stated.
    near: tuple[tuple[int, ...], ...] = field(default=())
    reference: tuple[tuple[int, ...], ...] = field(default=())

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"{name!r} is not a keypoint of scheme {self.name!r}") from None

    def flip_permutation(self) -> np.ndarray:
        """perm such that ``flipped_points = mirror(points)[perm]``."""
        perm = np.arange(self.num_keypoints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm


FKD15 = Scheme(
    name="fkd15",
    names=(
        "left_eye_center", "right_eye_center",
        "left_eye_inner_corner", "left_eye_outer_corner",
        "right_eye_inner_corner", "right_eye_outer_corner",
        "left_eyebrow_inner_end", "left_eyebrow_outer_end",
        "right_eyebrow_inner_end", "right_eyebrow_outer_end",
        "nose_tip",
        "mouth_left_corner", "mouth_right_corner",
        "mouth_center_top_lip", "mouth_center_bottom_lip",
    ),
    flip_pairs=((0, 1), (2, 4), (3, 5), (6, 8), (7, 9), (11, 12)),
    description="Kaggle Facial Keypoints Detection; left/right are the subject's sides.",
    core=(0, 1, 10, 14),
)


def _ibug68_names() -> tuple[str, ...]:
    # Sides are the subject's: points 17-21 and 36-41 lie on the image's left.
    names = [f"jaw_{i}" for i in range(17)]
    names += [f"right_brow_{i}" for i in range(5)] + [f"left_brow_{i}" for i in range(5)]
    names += [f"nose_bridge_{i}" for i in range(3)] + ["nose_tip"]
    names += [f"nostril_{i}" for i in range(5)]
    names += [f"right_eye_{i}" for i in range(6)] + [f"left_eye_{i}" for i in range(6)]
    names += [f"outer_lip_{i}" for i in range(12)] + [f"inner_lip_{i}" for i in range(8)]
    return tuple(names)


def _ibug68_flip_pairs() -> tuple[tuple[int, int], ...]:
    pairs = [(i, 16 - i) for i in range(8)]  # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(31, 35), (32, 34)]  # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lip
    pairs += [(60, 64), (61, 63), (65, 67)]  # inner lip
    return tuple(pairs)


IBUG68 = Scheme(
    name="ibug68",
    names=_ibug68_names(),
    flip_pairs=_ibug68_flip_pairs(),
    description="iBUG / 300-W 68 points; left/right are the subject's sides.",
)

CELEBA5 = Scheme(
    name="celeba5",
    names=("lefteye", "righteye", "nose", "leftmouth", "rightmouth"),
    flip_pairs=((0, 1), (3, 4)),
    description="CelebA / MTFL 5 points; left/right are the image's sides.",
)

BUILT_IN = (FKD15, IBUG68, CELEBA5)
SCHEMES: dict[str, Scheme] = {s.name: s for s in BUILT_IN}

# Each target keypoint is the mean of the listed source keypoints (data/README.md of the
# shared data describes how fkd15 was cut from ibug68 this way).
_MAPPINGS: dict[tuple[str, str], tuple[tuple[int, ...], ...]] = {
    ("ibug68", "fkd15"): (
        (42, 43, 44, 45, 46, 47), (36, 37, 38, 39, 40, 41),
        (42,), (45,), (39,), (36,),
        (22,), (26,), (21,), (17,),
        (30,),
        (54,), (48,),
        (51, 62), (57, 66),
    ),
    ("fkd15", "celeba5"): ((1,), (0,), (10,), (12,), (11,)),
}


def register_scheme(scheme: Scheme) -> Scheme:
    """Make a user's scheme known by name (to get_scheme, mapping_matrix) for this process.

    Models and data name their scheme, and a model file carries a user's whole definition; the
    same definition may be registered any number of times, a different one under a known name not."""
    known = SCHEMES.get(scheme.name)
    if known is not None and known != scheme:
        raise ValueError(f"another keypoint scheme named {scheme.name!r} is already in use")
    SCHEMES[scheme.name] = scheme
    if scheme.near:
        _MAPPINGS[("ibug68", scheme.name)] = scheme.near
    if scheme.reference:
        _MAPPINGS[(scheme.name, "celeba5")] = scheme.reference
    return scheme


def scheme_definition(scheme: Scheme) -> dict:
    """A scheme as the JSON data of a scheme file (``scheme_from_definition`` reads it)."""
    names = scheme.names
    definition = {
        "name": scheme.name, "description": scheme.description, "points": list(names),
        "flip_pairs": [[names[a], names[b]] for a, b in scheme.flip_pairs],
    }
    if scheme.near:
        definition["near"] = {n: [IBUG68.names[i] for i in group] for n, group in zip(names, scheme.near)}
    if scheme.reference:
        definition["reference"] = {r: [names[i] for i in group] for r, group in zip(CELEBA5.names, scheme.reference)}
    return definition


def scheme_from_definition(data) -> Scheme:
    """The Scheme a scheme file's JSON data defines; ValueError says what is wrong with it.

    ``{"name", "points": [...], "flip_pairs": [[left, right], ...], "near": {point: [ibug68
    points]}, "reference": {lefteye|righteye|nose|leftmouth|rightmouth: [points]}}``: "near" and
    "reference" are optional; ibug68 points go by name (``left_eye_0``) or index (0-67)."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with name, points and flip_pairs")
    unknown = sorted(set(data) - {"name", "description", "points", "flip_pairs", "near", "reference"})
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(unknown)}")
    name, points = data.get("name"), data.get("points")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("'name' must be a non-empty string")
    if name in {s.name for s in BUILT_IN}:
        raise ValueError(f"'name' {name!r} is a built-in scheme; choose another")
    if not isinstance(points, list) or not points or not all(isinstance(p, str) and p for p in points):
        raise ValueError("'points' must be a non-empty list of point names")
    repeated = sorted({p for p in points if points.count(p) > 1})
    if repeated:
        raise ValueError(f"duplicate point names: {', '.join(repeated)}")

    def index(point, where: str) -> int:
        if point not in points:
            raise ValueError(f"{where} names unknown point {point!r}")
        return points.index(point)

    pairs, paired = [], set()
    for pair in data.get("flip_pairs", []):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError(f"flip pair {pair!r} is not a [left, right] pair of names")
        a, b = (index(p, "flip pair") for p in pair)
        for p in (a, b):
            if p in paired:
                raise ValueError(f"point {points[p]!r} is in more than one flip pair")
            paired.add(p)
        if a == b:
            raise ValueError(f"flip pair pairs {points[a]!r} with itself")
        pairs.append((a, b))
    near = _groups(data.get("near"), points, IBUG68.names, "near", lambda p: index(p, "'near'"))
    reference = _groups(data.get("reference"), list(CELEBA5.names), points, "reference",
                        lambda r: CELEBA5.names.index(r) if r in CELEBA5.names else _unknown_reference(r))
    return Scheme(name=name, names=tuple(points), flip_pairs=tuple(pairs),
                  description=str(data.get("description", "")), near=near, reference=reference)


def _unknown_reference(name) -> int:
    raise ValueError(f"'reference' names {name!r}; reference points are {', '.join(CELEBA5.names)}")


def _groups(mapping, keys: list[str], members: tuple[str, ...] | list[str], what: str, key_index):
    """``{key: [member, ...]}`` -> one tuple of member indices per key, in key order; every key
    must be given (or the mapping left out)."""
    if mapping is None:
        return ()
    if not isinstance(mapping, dict):
        raise ValueError(f"'{what}' must be an object of lists")
    groups: list[tuple[int, ...] | None] = [None] * len(keys)
    for key, group in mapping.items():
        if not isinstance(group, list) or not group:
            raise ValueError(f"'{what}' of {key!r} must be a non-empty list")
        groups[key_index(key)] = tuple(_member(m, members, what, key) for m in group)
    missing = [k for k, g in zip(keys, groups) if g is None]
    if missing:
        raise ValueError(f"'{what}' leaves out {', '.join(missing)}")
    return tuple(groups)


def _member(member, members, what: str, key: str) -> int:
    if isinstance(member, int) and not isinstance(member, bool) and 0 <= member < len(members):
        return member
    if isinstance(member, str) and member in members:
        return list(members).index(member)
    raise ValueError(f"'{what}' of {key!r}: {member!r} is not one of its points")


def get_scheme(name: str) -> Scheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise KeyError(f"unknown keypoint scheme {name!r}; known: {', '.join(SCHEMES)}") from None


def mapping_matrix(source: str, target: str) -> np.ndarray:
    """(K_target, K_source) averaging weights; ``target_points = W @ source_points``.

    Chains through intermediate schemes (ibug68 -> fkd15 -> celeba5)."""
    if source == target:
        return np.eye(get_scheme(source).num_keypoints, dtype=np.float32)
    if (source, target) in _MAPPINGS:
        groups = _MAPPINGS[(source, target)]
        weights = np.zeros((len(groups), get_scheme(source).num_keypoints), dtype=np.float32)
        for row, members in enumerate(groups):
            weights[row, list(members)] = 1.0 / len(members)
        return weights
    for (a, b) in _MAPPINGS:
        if a == source:
            try:
                return mapping_matrix(b, target) @ mapping_matrix(a, b)
            except ValueError:
                continue
    raise ValueError(f"no mapping from scheme {source!r} to {target!r}")


def convert_points(points: np.ndarray, mask: np.ndarray, source: str, target: str):
    """Map (..., K, 2) points and (..., K) mask to another scheme.

    A target point is labelled only when every source point it is made from is labelled."""
    weights = mapping_matrix(source, target)
    filled = np.where(mask[..., None], points, 0.0)
    converted = np.einsum("ts,...sc->...tc", weights, filled).astype(np.float32)
    needed = weights > 0
    converted_mask = np.all(~needed | mask[..., None, :], axis=-1)
    return converted, converted_mask
