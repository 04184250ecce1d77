"""Exact and near duplicates, and the groups they form.

Exact: the same pixels (a hash). Near: the same picture again, re-encoded or moved a few pixels.
Each face's few most similar faces by a coarse 12x12 thumbnail are candidates; a candidate is a
near duplicate when, aligned by the best shift of up to 7 px, the two faces correlate at 0.985
or more. Re-encoded and shifted copies of FKD faces score 0.993 or more; the most similar faces
of two different people 0.94 at most; consecutive frames of one video shot can reach 0.985 and
are grouped too, since they leak between training and validation just like copies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from facepoints.audit.findings import Finding

NEAR_CORRELATION = 0.985
CANDIDATES = 4  # most similar thumbnails checked per face; a shifted copy ranks first or second
EXACT_SIMILARITY_FLOOR = 1e-4  # 1 - correlation of an exact copy, for its score
_THUMB = 12
_CHUNK = 2048


@dataclass
class Duplicates:
    group: np.ndarray  # (N,) index of the first face of each face's group (itself when alone)
    findings: list[Finding]

    def groups(self) -> list[np.ndarray]:
        """Indices of each group of two or more faces, largest groups first."""
        first, counts = np.unique(self.group, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return [np.flatnonzero(self.group == first[i]) for i in order if counts[i] > 1]


def find_duplicates(images: np.ndarray, grey: np.ndarray, rows: np.ndarray) -> Duplicates:
    """images: the original uint8 pixels (exact copies); grey: working copies (near ones)."""
    n = len(images)
    exact = _exact_pairs(images)
    candidates = _candidate_pairs(grey)
    correlation, shift = _aligned_correlation(grey, candidates)
    near = correlation >= NEAR_CORRELATION
    pairs = np.concatenate([exact, candidates[near]])
    similarity = np.concatenate([np.ones(len(exact)), correlation[near]])
    shifts = np.concatenate([np.zeros((len(exact), 2), int), shift[near]])
    is_exact = np.arange(len(pairs)) < len(exact)
    score = _scores(similarity, _typical_nearest(grey, candidates))
    group = _union_find(n, pairs)
    findings = []
    for index in np.flatnonzero(group != np.arange(n)):
        involved = np.flatnonzero((pairs == index).any(axis=1))
        best = involved[np.lexsort((-similarity[involved], ~is_exact[involved]))[0]]
        partner = int(pairs[best].sum() - index)
        if is_exact[best]:
            reason = f"exact duplicate of row {rows[partner]}"
        else:
            dy, dx = shifts[best] * (-1 if pairs[best, 0] == partner else 1)
            moves = ([f"{abs(dx)} px {'right' if dx > 0 else 'left'}"] if dx else []) + (
                [f"{abs(dy)} px {'down' if dy > 0 else 'up'}"] if dy else [])
            moved = f", moved {' and '.join(moves)}" if moves else ""
            reason = f"near duplicate of row {rows[partner]} (correlation {similarity[best]:.3f}{moved})"
        findings.append(Finding(int(index), "duplicate", float(score[best]), reason))
    return Duplicates(group, findings)


def _exact_pairs(images: np.ndarray) -> np.ndarray:
    first: dict[bytes, int] = {}
    pairs = []
    for index, image in enumerate(images):
        digest = hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()
        if digest in first:
            pairs.append((first[digest], index))
        else:
            first[digest] = index
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _candidate_pairs(grey: np.ndarray) -> np.ndarray:
    """(M, 2) unique (i, j), i < j: each face with its CANDIDATES most similar thumbnails."""
    n = len(grey)
    factor = grey.shape[1] // _THUMB
    thumbs = grey.reshape(n, _THUMB, factor, _THUMB, factor).mean(axis=(2, 4)).reshape(n, -1)
    thumbs -= thumbs.mean(axis=1, keepdims=True)
    thumbs /= np.maximum(np.linalg.norm(thumbs, axis=1, keepdims=True), 1e-6)
    count = min(CANDIDATES, n - 1)
    if count < 1:
        return np.zeros((0, 2), np.int64)
    pairs = []
    for start in range(0, n, _CHUNK):
        similarity = thumbs[start:start + _CHUNK] @ thumbs.T
        own = np.arange(start, min(start + _CHUNK, n))
        similarity[own - start, own] = -np.inf
        nearest = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
        pairs.append(np.stack([np.repeat(own, count), nearest.ravel()], axis=1))
    pairs = np.sort(np.concatenate(pairs), axis=1)
    return np.unique(pairs, axis=0)


def _aligned_correlation(grey: np.ndarray, pairs: np.ndarray, prune: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(M,) best correlation of each pair over shifts (-1 where pruned) and (M, 2) the shift
    (dy, dx) that moves the second face onto the first.

    Coarse to fine over three sizes (24, 48, 96 px): shifts of up to 1 px at a quarter of the
    size, then +-1 px around twice the best at each finer size, so up to +-7 px in all. Pairs
    that correlate below PRUNE at a coarse size stop there: copies stay far above it."""
    shift = np.zeros((len(pairs), 2), int)
    alive = np.arange(len(pairs))
    for level, images in enumerate([_shrink(grey, 4), _shrink(grey, 2), grey]):
        value = np.full(len(pairs), -1.0)
        if level:
            shift[alive] *= 2
        value[alive], shift[alive] = _best_shift(images, pairs[alive], shift[alive])
        if prune and level < len(PRUNE):
            alive = alive[value[alive] >= PRUNE[level]]
    return value, shift


def _typical_nearest(grey: np.ndarray, candidates: np.ndarray, sample: int = 400) -> np.ndarray:
    """Aligned correlation of a random sample of faces with their most similar other face."""
    pairs = candidates[np.random.default_rng(0).permutation(len(candidates))[:sample]]
    return _aligned_correlation(grey, pairs, prune=False)[0]


def _best_shift(images: np.ndarray, pairs: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best correlation of each pair over the 9 shifts within 1 px of its centre, and that shift."""
    best, best_shift = np.full(len(pairs), -2.0), centres.copy()
    for start in range(0, len(pairs), _CHUNK):
        chunk = slice(start, start + _CHUNK)
        a, b = images[pairs[chunk, 0]], images[pairs[chunk, 1]]
        for centre in np.unique(centres[chunk], axis=0):
            members = np.flatnonzero((centres[chunk] == centre).all(axis=1))
            for dy, dx in _STEPS + centre:
                value = _correlation(a[members], b[members], dy, dx)
                better = members[value > best[chunk][members]]
                best[start + better] = value[value > best[chunk][members]]
                best_shift[start + better] = (dy, dx)
    return best, best_shift


PRUNE = (0.8, 0.85)  # at 24 and 48 px; shifted re-encoded FKD copies score 0.9+ (a half-pixel misfit costs 0.05)
_STEPS = np.array([(dy, dx) for dy in range(-1, 2) for dx in range(-1, 2)])


def _shrink(grey: np.ndarray, factor: int) -> np.ndarray:
    n, h, w = grey.shape
    return grey[:, : h // factor * factor, : w // factor * factor].reshape(
        n, h // factor, factor, w // factor, factor).mean(axis=(2, 4))


def _correlation(a: np.ndarray, b: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Normalised correlation of a with b moved by (dy, dx), over the part they share."""
    h, w = a.shape[1:]
    a = a[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)]
    b = b[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    a = a - a.mean(axis=(1, 2), keepdims=True)
    b = b - b.mean(axis=(1, 2), keepdims=True)
    denominator = np.sqrt((a * a).sum(axis=(1, 2)) * (b * b).sum(axis=(1, 2)))
    return (a * b).sum(axis=(1, 2)) / np.maximum(denominator, 1e-6)


def _union_find(n: int, pairs: np.ndarray) -> np.ndarray:
    """(N,) smallest index of each face's connected group."""
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = root(int(i)), root(int(j))
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return np.array([root(i) for i in range(n)])


def _scores(similarity: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """How much closer a pair is than faces are to their similar neighbours, in robust SDs of
    log(1 - correlation): on FKD shifted re-encoded copies score 6-10, exact copies about 15."""
    if typical.size == 0:
        return np.full(len(similarity), 10.0)
    distance = np.log(np.maximum(1 - typical, EXACT_SIMILARITY_FLOOR))
    median = np.median(distance)
    spread = max(1.4826 * np.median(np.abs(distance - median)), 1e-6)
    return (median - np.log(np.maximum(1 - similarity, EXACT_SIMILARITY_FLOOR))) / spread
