"""The web app end to end: `python -m assist serve` on a free 127.0.0.1 port with tiny adapters, driven in
headless Chromium through Playwright, with a screenshot of every state in tmp/artifacts/assist-app/.

Skipped, saying why, where Chromium (Debian `chromium`) or Playwright's Python package is missing;
.ci/run installs both, so CI runs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("REDDITESS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("REDDITESS_TEST_ARTIFACTS", ROOT / "tmp" / "artifacts")) / "assist-app"
CALM = "Exams are crushing me\nI have three exams next week and I cannot sleep. How do you all cope?"
CRISIS = "I can't do this anymore\nHonestly I want to die. I keep thinking about ending my life tonight."
START_TIMEOUT = 300  # seconds: importing torch + gradio and loading the model on a busy 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(adapter_run: Path, im_adapter_run: Path, tmp_path_factory: pytest.TempPathFactory):
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "assist", "serve", "--gm", str(adapter_run), "--im", str(im_adapter_run)]
    cmd += ["--port", str(port), "--max_new_tokens", "16"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the app did not start:\n{log.read_text()[-3000:]}")
            time.sleep(1)
    yield url, log
    proc.terminate()  # SIGTERM: the app closes the server and exits 0
    assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    assert "assist serve: stopped" in log.read_text()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(
            f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed (dev extra)"
    )
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _value(page, selector: str, timeout: float = 120_000) -> str:
    """Wait until the textarea under `selector` is non-empty; its text."""
    page.wait_for_function(
        "s => { const t = document.querySelector(s); return t && t.value.trim().length > 0 }",
        arg=f"{selector} textarea",
        timeout=timeout,
    )
    return page.locator(f"{selector} textarea").input_value()


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.slow
def test_the_app_in_a_real_browser(server, browser) -> None:
    url, log = server
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    page.get_by_role("tab", name="Draft").wait_for(timeout=60_000)
    _shot(page, "0-start")
    assert page.get_by_role("tab", name="Draft").is_visible()
    assert page.get_by_role("tab", name="Improve").is_visible()

    # 1. Paste a post and get a draft (labelled as a draft to read and edit).
    page.locator("#draft-post textarea").fill(CALM)
    page.get_by_role("button", name="Draft reply").click()
    draft = _value(page, "#draft-out")
    assert draft and not page.locator("#draft-crisis").is_visible()
    assert "read, edit" in page.locator("#draft-out").inner_text()
    _shot(page, "1-draft")

    # Regenerate samples with the next seed (the sampling controls show it).
    page.get_by_text("Sampling").first.click()
    page.locator("#draft-seed input").wait_for(timeout=30_000)
    page.get_by_role("button", name="Regenerate").first.click()
    page.wait_for_function("() => document.querySelector('#draft-seed input').value === '1'", timeout=60_000)
    assert page.locator("#draft-sample input").is_checked()
    page.wait_for_function(
        "d => document.querySelector('#draft-out textarea').value !== d", arg=draft, timeout=120_000
    )
    _shot(page, "1b-regenerated")

    # 2. A high-risk post: the crisis note and resources above the draft.
    page.locator("#draft-post textarea").fill(CRISIS)
    page.locator("#draft-out textarea").fill("")
    page.get_by_role("button", name="Draft reply").click()
    _value(page, "#draft-out")
    crisis = page.locator("#draft-crisis")
    crisis.wait_for(state="visible", timeout=60_000)
    assert "CRISIS NOTE" in crisis.inner_text() and "988" in crisis.inner_text()
    assert crisis.bounding_box()["y"] < page.locator("#draft-out").bounding_box()["y"]
    _shot(page, "2-high-risk")

    # 3. An empty post: a message in the page, no crash, and the page still works afterwards.
    page.locator("#draft-post textarea").fill("   ")
    page.get_by_role("button", name="Draft reply").click()
    page.get_by_text("The post is empty").wait_for(timeout=60_000)
    _shot(page, "3-empty-post")

    # 4. Improve a reply: the improved reply beside the highlighted changes.
    page.get_by_role("tab", name="Improve").click()
    page.locator("#improve-post textarea").fill(CALM)
    page.locator("#improve-mine textarea").fill("hang in there, exams end")
    page.get_by_role("button", name="Improve reply").click()
    improved = _value(page, "#improve-out")
    assert improved
    changes = page.locator("#improve-changes")
    changes.get_by_text("added").first.wait_for(timeout=30_000)
    out_box, diff_box = page.locator("#improve-out").bounding_box(), changes.bounding_box()
    assert abs(out_box["y"] - diff_box["y"]) < 50 and out_box["x"] < diff_box["x"]  # side by side
    _shot(page, "4-improve")

    # Privacy: the page talks to loopback only, no post text in the server log, API routes off.
    assert requests and all(r.startswith(("http://127.0.0.1", "data:", "blob:")) for r in requests), requests
    text = log.read_text()
    assert "crushing" not in text and "want to die" not in text and "hang in there" not in text
    info = urllib.request.urlopen(url + "gradio_api/info", timeout=30).read().decode()
    assert '"named_endpoints":{}' in info.replace(" ", "")
    page.close()
