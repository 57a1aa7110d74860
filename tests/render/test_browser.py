"""The report in a real browser: Chromium loads it, runs only our script, shows the verdict."""

from __future__ import annotations

import shutil
import subprocess

import pytest

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(BROWSER is None, reason="no headless Chromium on PATH (looked for "
                       "'chromium' and 'chromium-browser'); install Debian's chromium package"),
]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


def _chromium(tmp_path, page, *args) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    return subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=True)


def _console(stderr: str) -> list[str]:
    """Console messages and uncaught errors (CSP violations are reported here too)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _page(tmp_path, html: str):
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    return page


def test_page_loads_without_console_errors_and_shows_the_verdict(tmp_path, failing_html):
    page = _page(tmp_path, failing_html)
    run = _chromium(tmp_path, page, "--dump-dom")
    assert _console(run.stderr) == []
    dom = run.stdout
    assert '<span class="word">FAILED</span>' in dom
    assert "wrong gradient for b1, W2 (check_gradients_batch20" in dom
    assert 'class=" js"' in dom  # the sorting script ran: the CSP hash admits it


def test_screenshot_is_not_blank(tmp_path, failing_html):
    from matplotlib.image import imread

    page = _page(tmp_path, failing_html)
    shot = tmp_path / "report.png"
    _chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1200,2000")
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1200)
    assert pixels.std() > 0.05  # text, tables and charts, not one flat colour
    red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    assert red[:400].any()  # the red FAIL verdict is above the fold


@pytest.mark.parametrize("payload", ['<script>document.title="PWNED"</script>',
                                     '"><img src=x onerror="document.title=\'PWNED\'">'],
                         ids=["script_tag", "img_onerror"])
def test_injected_markup_never_executes(tmp_path, payload, payload_html):
    page = _page(tmp_path, payload_html(payload))
    run = _chromium(tmp_path, page, "--dump-dom")
    assert "<title>PWNED</title>" not in run.stdout
    assert "<title>gradcheck: FAILED" in run.stdout
    assert _console(run.stderr) == []
    assert "<img" not in run.stdout


def test_a_probe_only_failure_shows_its_card_first_and_sentences_for_empty_charts(tmp_path, probe_failing_html):
    """A probe-only failure: its card at the top, a chart only where there is data to see."""
    from matplotlib.image import imread

    page = _page(tmp_path, probe_failing_html)
    dom = _chromium(tmp_path, page, "--dump-dom").stdout
    top = dom[dom.index('id="errors"'):dom.index('id="gradients"')]
    assert "Failures (1)" in top and "returned shape (4, 3) for 5 examples" in top
    assert dom.count("<svg") == 1  # the layer std; flags, zeros and rounding are sentences
    assert "dead after training: 0 for every layer" in dom
    assert "passed: no for batch size 5; yes for the others." in dom
    shot = tmp_path / "charts.png"
    _chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1200,2600")
    pixels = imread(shot)[..., :3]
    red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    assert red[:500].any()  # the FAILED verdict and the failure's card above the fold
