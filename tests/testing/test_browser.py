"""The headless-Chromium driver that checks rtt's pages: it must see what goes wrong on a page."""

import pytest

from rtt.testing.browser import WIDTH, Browser, chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium() is None, reason="needs Debian's chromium (apt-get install chromium)"),
]

BROKEN = """<!doctype html><html><head><title>broken</title></head><body>
<p>some text</p><img src="missing.png">
<script>console.error("drawn wrong"); undefined_function();</script>
<div style="height:2500px"></div></body></html>"""
FINE = "<!doctype html><html><head><title>fine</title></head><body><p class='legend'>ok</p></body></html>"


def test_a_visit_reports_console_errors_exceptions_and_failed_loads(tmp_path):
    (tmp_path / "broken.html").write_text(BROKEN)
    (tmp_path / "fine.html").write_text(FINE)
    with Browser() as browser:
        broken = browser.visit((tmp_path / "broken.html").as_uri(), ["document.images[0].naturalWidth"])
        fine = browser.visit((tmp_path / "fine.html").as_uri(), ["!!document.querySelector('.legend')"])
    assert any("drawn wrong" in e for e in broken.console_errors)
    assert any("undefined_function" in e for e in broken.console_errors)
    assert broken.failed_requests and broken.checks == {"document.images[0].naturalWidth": 0}
    assert (
        fine.console_errors == []
        and fine.failed_requests == []
        and fine.checks == {"!!document.querySelector('.legend')": True}
    )
    # a PNG of the whole page: WIDTH wide, taller than the window for the 2500-pixel page
    assert broken.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (int.from_bytes(broken.screenshot[i : i + 4], "big") for i in (16, 20))
    assert width == WIDTH and height > 2500
