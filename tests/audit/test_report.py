"""The HTML report opens offline: every picture inline, nothing fetched, every section there."""

import html.parser

import pytest

from facepoints.audit.report import write_report


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if "id" in dict(attrs):
            self.ids.add(dict(attrs)["id"])


@pytest.fixture(scope="module")
def report(tmp_path_factory, fkd_audit):
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(path, fkd_audit)
    text = path.read_text(encoding="utf-8")
    tags = Tags()
    tags.feed(text)
    return text, tags


def test_report_is_self_contained(report):
    text, tags = report
    names = {tag for tag, _ in tags.tags}
    assert not names & {"script", "link", "iframe", "object", "embed"}
    images = [attrs["src"] for tag, attrs in tags.tags if tag == "img"]
    assert len(images) >= 5
    assert all(src.startswith("data:image/png;base64,") for src in images)
    for tag, attrs in tags.tags:
        for name in ("src", "href"):
            assert not attrs.get(name, "").startswith(("http://", "https://", "//")), (tag, attrs)
    assert "url(" not in text and "@import" not in text


def test_report_has_every_section_and_the_numbers(report, fkd_audit):
    text, tags = report
    assert {"missing", "mean-face", "duplicates", "labels", "pictures", "suspects"} <= tags.ids
    assert "4 keypoints (left_eye_center, right_eye_center, nose_tip, mouth_center_bottom_lip)</td><td class='n'>1880</td><td class='n'>66.9%" in text
    assert "left/right eye_center swapped" in text
    assert f"{len(fkd_audit.suspects)} suspects" in text
