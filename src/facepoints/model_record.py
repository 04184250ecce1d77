"""What a model file says about its model: one typed record, read and written here only.

An exported model carries the record as JSON under ``METADATA_KEY`` in its ONNX metadata, and a
run's weights file in its safetensors metadata, so inference and explain need no other file
(timm's ``PretrainedCfg`` is the pattern). Records of files written by earlier versions are
upgraded in one place, ``ModelRecord.from_metadata``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from facepoints.version import __version__
from facepoints.crop import FKD_FRAMING, PHOTO_FRAMING, Framing
from facepoints.flip import FlipTest
from facepoints.schemes import Scheme, get_scheme, mapping_matrix, register_scheme, scheme_from_definition

METADATA_KEY = "facepoints"
# What an exported graph takes and gives: written for other readers of the file, not read back.
GRAPH_INPUT = "float32 (N, C, H, W), grey or RGB values in [0, 1]"
GRAPH_OUTPUT = "float32 (N, K, 2): (x, y) in the input's pixels"
# The framings `facepoints train` gives its crops, by crop size: for weights that name none.
_FRAMINGS_BY_SIZE = {FKD_FRAMING.size: FKD_FRAMING, PHOTO_FRAMING.size: PHOTO_FRAMING}


@dataclass(frozen=True)
class ModelRecord:
    """A keypoint model's description: what it takes, what it gives, how it was made.

    - ``scheme``: the name of the keypoint scheme of its outputs (schemes.get_scheme);
      ``scheme_definition``: the whole scheme, for a user's (schemes.scheme_definition).
    - ``image_size``, ``channels``: its input crops, (height, width) and 1 (grey) or 3 (RGB).
    - ``framing``: where a face's reference points sit in those crops (crop.Framing).
    - ``label_offset``: how far its outputs sit from pixel centres; inference subtracts it
      (``to_pixel_centres``).
    - ``flip_test``: the mirrored pass a runtime may add (None: none to add); ``flip_in_graph``:
      the graph averages each face with its mirror itself (ensembles, split models).
    - ``config``: its training config as JSON (training.config.TrainConfig.to_json), if known.
    - ``terms``: the terms of its training data, which the model inherits.
    - ``mappings``: (K_other, K) weights making another scheme's points from its outputs, learned
      where it was trained on that scheme's labels; other schemes map as schemes.mapping_matrix.
    - ``facepoints_version``: the version that wrote the file.
    """

    scheme: str
    image_size: tuple[int, int]
    channels: int
    framing: Framing
    label_offset: float = 0.0
    flip_test: FlipTest | None = None
    flip_in_graph: bool = False
    config: str | None = None
    terms: str | None = None
    mappings: dict[str, list[list[float]]] | None = None
    facepoints_version: str | None = __version__
    scheme_definition: dict | None = None

    def keypoint_scheme(self) -> Scheme:
        """The scheme of its outputs, a user's made known to this process (schemes.register_scheme)."""
        if self.scheme_definition is None:
            return get_scheme(self.scheme)
        return register_scheme(scheme_from_definition(self.scheme_definition))

    def to_pixel_centres(self, points):
        """Model outputs (any array) -> the same points in pixel-centre coordinates of its crop."""
        return points - self.label_offset

    def mapping_to(self, scheme: str) -> np.ndarray:
        """(K_scheme, K) weights: ``scheme``'s points from this model's outputs (ValueError: none)."""
        if self.mappings and scheme in self.mappings:
            return np.asarray(self.mappings[scheme], np.float32)
        return mapping_matrix(self.scheme, scheme)

    def to_metadata(self) -> dict:
        """The record as JSON-ready data, in the layout ``from_metadata`` reads."""
        flip = {"flip_test": self.flip_test.as_dict()} if self.flip_test else {"flip_in_graph": self.flip_in_graph}
        optional = {"config": self.config, "terms": self.terms, "mappings": self.mappings,
                    "scheme_definition": self.scheme_definition}
        return {
            "scheme": self.scheme,
            "image_size": list(self.image_size),
            "channels": self.channels,
            "input": GRAPH_INPUT,
            "output": GRAPH_OUTPUT,
            "facepoints_version": self.facepoints_version,
            "framing": self.framing.as_dict(),
            "label_offset": self.label_offset,
            **flip,
            **{key: value for key, value in optional.items() if value is not None},
        }

    def properties(self) -> dict[str, str]:
        """The record as a file's text properties: ONNX metadata, safetensors metadata."""
        return {METADATA_KEY: json.dumps(self.to_metadata())}

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> "ModelRecord":
        """The record in a file's text properties (see ``from_metadata`` for older files)."""
        if METADATA_KEY in properties:
            return cls.from_metadata(json.loads(properties[METADATA_KEY]))
        return cls.from_metadata(properties)

    @classmethod
    def from_metadata(cls, metadata: Mapping) -> "ModelRecord":
        """The record in ``metadata`` as any version of facepoints wrote it.

        Older files differ so: weights files held the record's keys as text ("128" for a square
        crop) and no framing, theirs being train's framing for their crop size; files without
        a label offset have none; files without flip settings were exported when the flip test
        sat in the graph whenever the config asked for it. Raises KeyError, TypeError or
        ValueError for metadata that holds no record."""
        size = _json_value(metadata["image_size"])
        image_size = (int(size), int(size)) if isinstance(size, int) else tuple(int(v) for v in size)
        framing = _json_value(metadata.get("framing"))
        flip = metadata.get("flip_test")
        config = metadata.get("config")
        if flip:
            in_graph = False
        elif "flip_in_graph" in metadata:
            in_graph = bool(metadata["flip_in_graph"])
        else:
            in_graph = bool(json.loads(config).get("flip_tta")) if isinstance(config, str) else False
        return cls(
            scheme=str(metadata["scheme"]),
            image_size=image_size,
            channels=int(metadata["channels"]),
            framing=Framing.from_dict(framing) if framing else _framing_for(image_size[0]),
            label_offset=float(metadata.get("label_offset", 0.0)),
            flip_test=FlipTest.from_dict(flip) if flip else None,
            flip_in_graph=in_graph,
            config=config,
            terms=metadata.get("terms"),
            mappings=_json_value(metadata.get("mappings")),
            facepoints_version=metadata.get("facepoints_version"),
            scheme_definition=_json_value(metadata.get("scheme_definition")),
        )


def _json_value(value):
    """A value as JSON-typed data, whether stored as data (ONNX) or as its JSON text (weights)."""
    return json.loads(value) if isinstance(value, str) else value


def _framing_for(size: int) -> Framing:
    if size not in _FRAMINGS_BY_SIZE:
        raise ValueError(f"no framing recorded for {size} px crops")
    return _FRAMINGS_BY_SIZE[size]
