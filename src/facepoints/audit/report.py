"""The audit as one self-contained HTML file: pictures inlined as base64 PNG, no scripts, no
fonts, no links, so it opens offline and can be mailed as it is."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from facepoints.audit import pictures
from facepoints.audit.findings import KINDS
from facepoints.audit.run import AuditResult
from facepoints.fileio import write_text_atomic

SHOWN_SUSPECTS = 24  # label and image suspects drawn
SHOWN_GROUPS = 12  # duplicate groups drawn
GROUP_MEMBERS = 6  # thumbnails per group
TABLE_ROWS = 200  # suspects listed in the table

_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 72em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
td.n { text-align: right; } img { max-width: 100%; } .note { color: #666; font-size: 0.9em; }
"""


def write_report(path: str | Path, result: AuditResult) -> None:
    ks = result.keypoints
    sections = [
        _summary(result),
        _missing(result),
        _mean_face(result),
        _duplicates(result),
        _label_suspects(result),
        _image_suspects(result),
        _suspect_table(result),
    ]
    title = f"Audit of {ks.source or 'a keypoint set'}"
    document = (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
                f"<style>{_STYLE}</style></head><body>\n<h1>{_e(title)}</h1>\n" + "\n".join(sections)
                + "\n</body></html>\n")
    write_text_atomic(path, document)


def _summary(result: AuditResult) -> str:
    ks = result.keypoints
    counts = {kind: sum(s.kind == kind for s in result.suspects) for kind in KINDS}
    groups = result.duplicates.groups()
    return (f"<p>{len(ks)} faces of {ks.image_size[1]}x{ks.image_size[0]} px, scheme {ks.scheme.name} "
            f"({ks.scheme.num_keypoints} keypoints). {len(result.suspects)} suspects: {counts['label']} wrong "
            f"labels, {counts['duplicate']} duplicates (in {len(groups)} groups), {counts['image']} odd pictures. "
            f"Audit took {result.seconds:.0f} s.</p>"
            "<p class='note'>Scores are robust standard deviations from a typical face on the check that "
            "raised them. Label checks compare each label with where a cross-validated model and the "
            "face's other labels put it; the model never saw that face's labels.</p>")


def _missing(result: AuditResult) -> str:
    stats, ks = result.missing, result.keypoints
    per_keypoint = "".join(
        f"<tr><td>{_e(name)}</td><td class='n'>{count}</td><td class='n'>{100 * count / max(stats.rows, 1):.1f}%</td></tr>"
        for name, count in zip(stats.names, stats.labelled))
    patterns = "".join(
        f"<tr><td>{_e(p.description)}</td><td class='n'>{p.rows}</td><td class='n'>{100 * p.share:.1f}%</td></tr>"
        for p in stats.patterns)
    return ("<h2 id='missing'>Missing values</h2>"
            + _img(pictures.missing_heatmap(ks.mask, stats), "missing-value heatmap")
            + "<h3>Per keypoint</h3><table><tr><th>keypoint</th><th>labelled rows</th><th>share</th></tr>"
            + per_keypoint + "</table><h3>Per pattern</h3><table><tr><th>pattern</th><th>rows</th><th>share</th></tr>"
            + patterns + "</table>")


def _mean_face(result: AuditResult) -> str:
    ks = result.keypoints
    rows = "".join(
        f"<tr><td class='n'>{k}</td><td>{_e(name)}</td><td class='n'>{m[0]:.1f}</td><td class='n'>{m[1]:.1f}</td>"
        f"<td class='n'>{s[0]:.1f}</td><td class='n'>{s[1]:.1f}</td></tr>"
        for k, name, m, s in _keypoint_spread(ks.points, ks.mask, ks.scheme.names))
    return ("<h2 id='mean-face'>Mean face and spread of each keypoint</h2>"
            "<p class='note'>Mean picture; dots: mean position of each keypoint over the rows that label "
            "it; ellipses: two standard deviations.</p>"
            + _img(pictures.mean_face(ks.images, ks.points, ks.mask), "mean face")
            + "<table><tr><th>#</th><th>keypoint</th><th>mean x</th><th>mean y</th><th>SD x</th><th>SD y</th></tr>"
            + rows + "</table>")


def _duplicates(result: AuditResult) -> str:
    ks, groups = result.keypoints, result.duplicates.groups()
    if not groups:
        return "<h2 id='duplicates'>Duplicate groups</h2><p>No exact or near duplicates.</p>"
    figures = []
    for members in groups[:SHOWN_GROUPS]:
        shown = members[:GROUP_MEMBERS]
        figures.append(_img(pictures.face_grid(ks.images[shown], [f"row {ks.rows[i]}" for i in shown],
                                               columns=GROUP_MEMBERS), f"duplicate group of row {ks.rows[members[0]]}"))
    return (f"<h2 id='duplicates'>Duplicate groups</h2><p>{len(groups)} groups hold "
            f"{sum(len(g) for g in groups)} faces; the largest {min(len(groups), SHOWN_GROUPS)} are drawn. "
            "Split training and validation by group (the suspects' <code>group</code> column).</p>"
            + "".join(figures))


def _label_suspects(result: AuditResult) -> str:
    ks, labels = result.keypoints, result.labels
    shown = [s for s in result.suspects if s.kind == "label"][:SHOWN_SUSPECTS]
    if not shown:
        return "<h2 id='labels'>Top label suspects</h2><p>No label stands out.</p>"
    index = np.array([s.index for s in shown])
    figure = pictures.face_grid(ks.images[index], [f"row {s.row} ({s.score:.1f}): {s.reason}" for s in shown],
                                ks.points[index], ks.mask[index], labels.expected[index], labels.culprits[index])
    return ("<h2 id='labels'>Top label suspects</h2><p class='note'>Green: the labels. Red rings: the labels "
            "the reason names; cyan crosses: where the face puts them.</p>" + _img(figure, "label suspects"))


def _image_suspects(result: AuditResult) -> str:
    ks = result.keypoints
    shown = [s for s in result.suspects if s.kind == "image"][:SHOWN_SUSPECTS]
    if not shown:
        return "<h2 id='pictures'>Odd pictures</h2><p>No picture stands out.</p>"
    figure = pictures.face_grid(ks.images[[s.index for s in shown]],
                                [f"row {s.row} ({s.score:.1f}): {s.reason}" for s in shown])
    return "<h2 id='pictures'>Odd pictures</h2>" + _img(figure, "odd pictures")


def _suspect_table(result: AuditResult) -> str:
    rows = "".join(
        f"<tr><td>{_e(s.row)}</td><td>{s.kind}</td><td class='n'>{s.score:.2f}</td><td>{_e(s.reason)}</td>"
        f"<td>{_e(s.group)}</td></tr>" for s in result.suspects[:TABLE_ROWS])
    more = len(result.suspects) - TABLE_ROWS
    return ("<h2 id='suspects'>Suspects, most suspicious first</h2><table><tr><th>row</th><th>kind</th>"
            "<th>score</th><th>reason</th><th>group</th></tr>" + rows + "</table>"
            + (f"<p class='note'>{more} more in the CSV.</p>" if more > 0 else ""))


def _keypoint_spread(points: np.ndarray, mask: np.ndarray, names: tuple[str, ...]):
    for k, name in enumerate(names):
        labelled = points[mask[:, k], k]
        if len(labelled):
            yield k, name, labelled.mean(axis=0), labelled.std(axis=0)


def _img(data: bytes, alt: str) -> str:
    return f"<p><img alt='{_e(alt)}' src='data:image/png;base64,{base64.b64encode(data).decode('ascii')}'></p>"


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)
