"""A training run: data in, a self-contained run folder out.

The run folder is the unit of reproducibility: config.json, metrics.csv, curves.png,
model.safetensors, model.onnx, scores.json and a model card."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from pytorch_lightning.utilities.rank_zero import rank_zero_only
from safetensors.torch import save_file
from torch import nn

from facepoints.version import __version__
from facepoints.data import KeypointSet
from facepoints.data.load import load_training_set, without_rows
from facepoints.data.mixed import StackedScheme, block_of, target_scheme
from facepoints.crop import FKD_FRAMING
from facepoints.errors import FacepointsError
from facepoints.evaluation import per_image_error, score
from facepoints.export import export_onnx
from facepoints.fileio import atomic_path, output_folder, write_text_atomic
from facepoints.flip import FlipTest
from facepoints.model_record import ModelRecord
from facepoints.models import list_models
from facepoints.models.wrappers import FlipAveraged
from facepoints.plots import keypoint_grid, learning_curves
from facepoints.schemes import BUILT_IN, Scheme, scheme_definition
from facepoints.training.config import TrainConfig
from facepoints.training.module import compiles_by_default
from facepoints.training.split import split_by_group
from facepoints.training.strategies import fit_predictor, predict
from facepoints.training.transfer import check_fits, finetune_config
from facepoints.training.weights import read_trained

# The research terms of the data sets a model may be trained on, by a word in the data's path.
_TERMS = {
    "fkd": "YouTube Faces (Wolf, Hassner, Maoz, CVPR 2011) in the Kaggle Facial Keypoints layout",
    "faces68": "YouTube Faces (Wolf, Hassner, Maoz, CVPR 2011) frames with 68-point labels",
    "w300": "300-W (Sagonas et al., 2013: AFW, LFPW, HELEN re-annotated)",
    "mtfl": "MTFL (Zhang et al., ECCV 2014)",
}


def data_terms(source: str) -> str:
    sets = [text for word, text in _TERMS.items() if word in source.lower()] or [f"the data in {source}"]
    return (f"Trained on {'; '.join(sets)}. This data is offered by its authors for research; the model "
            "inherits those terms: use it for research, and do not redistribute the data.")


def train_run(config: TrainConfig, data: Path | list[Path], out: Path, groups: Path | None = None,
              exclude_rows: set | None = None, progress: bool = True, scheme: Scheme | None = None) -> dict:
    """Train on ``data`` (its points named by ``scheme``, a user's, where given) into run folder ``out``."""
    source = read_trained(config.init) if config.init else None
    if source is not None:
        config = finetune_config(config, source)
    if config.model not in list_models():
        raise FacepointsError(f"unknown model {config.model!r}; choose one of {', '.join(list_models())}")
    if config.compile is None:  # record what the default means on this machine
        config = config.but(compile=compiles_by_default("cuda" if torch.cuda.is_available() else "cpu"))
    if (out / "card.md").is_file():  # written last: the run is complete, and its data need not be read again
        return completed_run(config, out)
    dataset = load_training_set(data if isinstance(data, list) else [data], groups, scheme=scheme)
    if source is not None:
        check_fits(source, dataset)
    output_folder(out)  # only once the data is known good: a refused run leaves no folder
    train_set, val_set = split_by_group(dataset, config.val_fraction, config.seed)
    if exclude_rows:  # from training only: validation stays the same faces, so scores compare
        train_set = without_rows(train_set, exclude_rows)
    write_text_atomic(out / "config.json", config.to_json())
    write_text_atomic(out / "split.json", json.dumps({  # so benchmarks score exactly the held-out faces
        "val_rows": [str(r) for r in val_set.rows],
        "val_groups": sorted({str(g) for g in val_set.groups}) if val_set.groups is not None else None,
    }))

    started = time.perf_counter()
    predictor = fit_predictor(config, train_set, val_set if len(val_set) else None, out, progress)
    seconds = time.perf_counter() - started
    if rank_zero_only.rank != 0:  # data-parallel workers: rank 0 alone scores and writes the run
        return {}

    predictor = predictor.cpu().float().eval()
    result = {
        "train_rows": len(train_set), "val_rows": len(val_set), "val_groups": _count_groups(val_set),
        "train_seconds": round(seconds, 1), "device": _device_name(), "excluded_rows": len(dataset) - len(train_set) - len(val_set),
    }
    mappings = getattr(predictor, "scheme_mappings", None)
    if isinstance(val_set.scheme, StackedScheme):  # each scheme's held-out labels, scored apiece
        result["val_by_scheme"] = {}
        for part in val_set.scheme.parts[1:]:
            labelled = block_of(val_set, part)
            mapped = np.einsum("st,ntc->nsc", np.asarray(mappings[part], np.float32), predict(predictor, labelled.images))
            result["val_by_scheme"][part] = score(mapped, labelled.points, labelled.mask, labelled.scheme).as_dict()
        val_set = block_of(val_set, val_set.scheme.parts[0])
    if len(val_set):
        pred = predict(predictor, val_set.images)
        result["val"] = score(pred, val_set.points, val_set.mask, val_set.scheme).as_dict()
        if isinstance(predictor, FlipAveraged):  # what the flip averaging is worth
            plain = predict(predictor.model, val_set.images)
            result["val_without_flip_tta"] = score(plain, val_set.points, val_set.mask, val_set.scheme).as_dict()
            result["label_offset"] = float(predictor.label_offset)
        _worst_predictions(val_set, pred, out / "worst.png")
    write_text_atomic(out / "scores.json", json.dumps(result, indent=2))

    graph, flip = _runtime_flip_test(predictor)
    model_scheme = target_scheme(dataset.scheme)
    record = ModelRecord(
        scheme=model_scheme.name, image_size=dataset.image_size, channels=dataset.channels,
        framing=dataset.framing or FKD_FRAMING, label_offset=_pixel_centre_offset(predictor, dataset), **flip,
        config=config.to_json(), terms=data_terms(dataset.source), mappings=mappings,
        scheme_definition=None if model_scheme in BUILT_IN else scheme_definition(model_scheme),
    )
    with atomic_path(out / "model.safetensors") as tmp:
        state = {k: v.contiguous().clone() for k, v in predictor.state_dict().items()}
        save_file(state, str(tmp), metadata=record.properties())
    export_onnx(graph, out / "model.onnx", record)
    metrics = sorted(out.rglob("metrics.csv"))
    if metrics:
        learning_curves(metrics, out / "curves.png")
    write_text_atomic(out / "card.md", model_card(config, dataset, result, record))
    return result


def completed_run(config: TrainConfig, out: Path) -> dict:
    """A finished run's scores, marked ``complete``; its files stay as they are, so the card
    always describes what was trained. Other settings need a new run folder."""
    trained = TrainConfig.from_json(out / "config.json")
    changed = {k: v for k, v in asdict(config).items() if asdict(trained).get(k) != v}
    if changed:
        was = ", ".join(f"{k}={asdict(trained).get(k)}" for k in changed)
        now = ", ".join(f"{k}={v}" for k, v in changed.items())
        raise FacepointsError(f"{out}: this run is complete, trained with {was}; give a new --out to train with {now}")
    return {**json.loads((out / "scores.json").read_text()), "complete": True}


def _runtime_flip_test(predictor: nn.Module) -> tuple[nn.Module, dict]:
    """The graph to export, and the record's flip settings for it.

    A flip-averaged model exports its bare network and records the flip test for the runtime to
    do, so a user can trade the mirrored pass for speed; flips inside ensembles and split models
    stay in the graph."""
    if not isinstance(predictor, FlipAveraged):
        nested = any(isinstance(m, FlipAveraged) for m in predictor.modules())
        return predictor, {"flip_in_graph": nested}
    flip_test = FlipTest(tuple(predictor.flip_permutation.tolist()), float(predictor.label_offset))
    return predictor.model, {"flip_test": flip_test}


def _pixel_centre_offset(predictor, dataset: KeypointSet) -> float:
    """How far the model's outputs sit from pixel centres: what inference subtracts.

    Crops facepoints framed itself (``dataset.framing``) carry labels it converted to pixel
    centres, so 0: there the learned offset only trims the flip axis, and subtracting it would
    move every point off. Elsewhere (the Kaggle layout, whose origin is unknown) it is the
    learned offset."""
    if dataset.framing is not None or not isinstance(predictor, FlipAveraged):
        return 0.0
    return float(predictor.label_offset)


def _short_sources(source: str) -> str:
    """'a/b/faces68/keypoints.csv + ...' -> 'faces68/keypoints.csv + ...': no local paths in cards."""
    return " + ".join("/".join(Path(part).parts[-2:]) for part in source.split(" + "))


def _count_groups(ks: KeypointSet) -> int | None:
    return None if ks.groups is None else int(len(np.unique(ks.groups)))


def _device_name() -> str:
    return torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU ({platform.processor() or platform.machine()})"


def _worst_predictions(ks: KeypointSet, pred: np.ndarray, path: Path, count: int = 12) -> None:
    errors = per_image_error(pred, ks.points, ks.mask)
    worst = np.argsort(-errors)[:count]
    titles = [f"row {ks.rows[i]}: {errors[i]:.1f} px" for i in worst]
    keypoint_grid(ks.images[worst], pred[worst], ks.points[worst], ks.mask[worst], titles, path)


def model_card(config: TrainConfig, dataset: KeypointSet, result: dict, record: ModelRecord) -> str:
    val = result.get("val")
    held_out = (f"rows of {result['val_groups']} held-out identities" if result["val_groups"] else
                "rows held out at random (no identities given: near-duplicate frames of one person may sit on both "
                "sides, so this score may flatter the model)")
    scores = (
        f"- Validation RMSE {val['rmse']:.3f} px, MAE {val['mae']:.3f} px, NME {val['nme']:.4f} "
        f"on {result['val_rows']} {held_out}.\n"
        if val else "- Trained on all rows: no held-out score. See docs/benchmarks.md for validated runs.\n"
    )
    architecture = f"{config.model} {json.dumps(config.model_cfg)}" if config.model_cfg else config.model
    height, width = record.image_size
    offset = record.label_offset
    return f"""# facepoints model card

- Scheme: {record.scheme} ({target_scheme(dataset.scheme).num_keypoints} keypoints), input {width}x{height}, {record.channels} channel(s).
- Architecture: {architecture}; missing keypoints: {config.strategy}; augmentation: {config.augment}; flip test-time averaging: {config.flip_tta}; ensemble of {config.ensemble}.
- Data: {_short_sources(dataset.source)} ({result['train_rows']} training rows).
{scores}- Trained in {result['train_seconds']} s on {result['device']} with facepoints {__version__}.

## Limits
- Expects a face framed as in training: a {record.framing.size} px crop whose reference points (eyes, and where
  given nose and mouth corners) sit at {[list(p) for p in record.framing.template]}; `facepoints detect` frames
  faces this way from the detector's points and refines from the model's own.
- Coordinates are in the training labels' frame, learned {'+%.2f px from pixel centres' % offset if offset else 'as pixel centres'}.
- Faces unlike the training data (profile views, heavy occlusion, children, rare lighting) score worse.

## Terms
{record.terms}
"""
