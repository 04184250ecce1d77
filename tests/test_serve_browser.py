"""The page in headless Chromium (Debian's `chromium`, driven by Playwright) against a real
`facepoints serve`: upload a face, see its points drawn, choose sunglasses, download.

Skipped, saying why, where Chromium or Playwright is missing or cannot start (.ci/run installs
Chromium). FACEPOINTS_SCREENSHOT=docs/images/serve.png also saves the README's screenshot.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from facepoints.commands.detect import example_photo
from facepoints.imageio import read_image

from support import benchmark_module

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium, as .ci/run does)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=path)
        except Error as e:
            pytest.skip(f"Chromium at {path} does not start: {str(e).strip().splitlines()[0]}")
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server():
    with benchmark_module("serve_load").running_server() as url:
        yield url


def open_page(browser, server, viewport):
    page = browser.new_page(viewport=viewport, accept_downloads=True)
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.goto(server)
    page.wait_for_selector("#filter option[value=sunglasses]", state="attached")
    return page, problems


def upload_example(page):
    page.set_input_files("#photo", str(example_photo()))
    page.wait_for_selector("#table tbody tr:nth-child(68)", state="attached")
    assert page.locator("#table tbody tr").count() == 68


# The canvas pixel under each keypoint of the table (canvas pixels = photo pixels here: 512 wide).
POINT_PIXELS = """() => {
  const canvas = document.getElementById("canvas");
  const context = canvas.getContext("2d");
  const scale = canvas.width / 512;
  return [...document.querySelectorAll("#table tbody tr")].map((row) => {
    const x = Number(row.cells[3].textContent), y = Number(row.cells[4].textContent);
    return [...context.getImageData(Math.floor((x + 0.5) * scale), Math.floor((y + 0.5) * scale), 1, 1).data];
  });
}"""


def test_upload_see_points_choose_sunglasses_download(browser, server, tmp_path):
    page, problems = open_page(browser, server, PHONE)
    upload_example(page)
    assert page.inner_text("#status") == "1 face, 68 keypoints each."
    colours = np.array(page.evaluate(POINT_PIXELS))
    assert colours.shape == (68, 4)
    # The points' green, drawn as opaque as each point is sure (confidence); the head's axes, drawn
    # from the nose tip over the points, may cover a few.
    green_leads = (colours[:, 1] > colours[:, 0] + 60) & (colours[:, 1] > colours[:, 2])
    assert green_leads.mean() > 0.9
    assert np.mean((colours[:, 1] > 200) & (colours[:, 0] < 80)) > 0.5
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling

    with page.expect_download() as download:
        page.click("#download-json")
    answer = json.loads(Path(download.value.path()).read_text())
    assert download.value.suggested_filename == "grace_hopper.json"
    assert len(answer["faces"][0]["keypoints"]) == 68

    page.select_option("#filter", "sunglasses")
    page.wait_for_selector("#filtered", state="visible")
    assert page.inner_text("#status").endswith("Filter: sunglasses.")
    with page.expect_download() as download:
        page.click("#download-image")
    assert download.value.suggested_filename == "grace_hopper_sunglasses.jpg"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.read_bytes()[:3] == b"\xff\xd8\xff"
    filtered, original = read_image(saved).astype(int), read_image(example_photo()).astype(int)
    assert filtered.shape == original.shape == (600, 512, 3)
    eyes, chest = slice(170, 220), slice(500, 600)
    assert np.abs(filtered[eyes] - original[eyes]).mean() > 20  # dark glasses over the eyes
    assert np.abs(filtered[chest] - original[chest]).mean() < 3  # the rest as it was (JPEG aside)
    assert problems == []


def test_a_refusal_is_shown_on_the_page(browser, server, tmp_path):
    page, _ = open_page(browser, server, PHONE)
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_bytes(b"plain text, not a photo")
    page.set_input_files("#photo", str(not_a_photo))
    page.wait_for_selector("#status.error")
    assert "notes.jpg: not a readable image" in page.inner_text("#status")
    assert "(HTTP 415)" in page.inner_text("#status")


def test_page_on_a_desktop_screen(browser, server, tmp_path):
    page, problems = open_page(browser, server, {"width": 1100, "height": 820})
    upload_example(page)
    shot = tmp_path / "serve.png"
    page.screenshot(path=shot, full_page=False)
    assert read_image(shot).shape == (820, 1100, 3)
    if os.environ.get("FACEPOINTS_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["FACEPOINTS_SCREENSHOT"])
    assert problems == []
