"""End to end in a real headless browser (Debian's chromium + chromedriver, no browser download): start
`sim explore`, move a lever, wait for the 2030 population that `sim run` gives for the saved scenario."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from .browser_helpers import CHROMEDRIVER, CHROMIUM, browser, find, quit_browser, set_lever, start_server, \
    text_of, wait_change

pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="no browser installed (apt-get install chromium chromium-driver; .ci/run does)")


def test_move_a_lever_save_and_reproduce(tmp_path):
    pytest.importorskip("selenium", reason="selenium is in the test extra: pip install -e '.[test]'")
    from simulator.cli import main
    proc, url = start_server("scenarios/baseline.yaml", tmp_path / "saved")
    driver = browser()
    try:
        driver.get(url)
        find(driver, "#now-population", timeout=60)
        start = text_of(driver, "#now-population")
        set_lever(driver, "graduates_retained.JL_P", 20000)
        shown = float(wait_change(driver, "#now-population", start, timeout=60))
        assert shown > float(start)
        find(driver, ".bk-btn-primary").click()                     # Save scenario
        saved = Path(find(driver, "#saved-path", timeout=30).text)
    finally:
        quit_browser(driver)
        proc.terminate()
        proc.wait(10)
    assert saved.parent == tmp_path / "saved" and saved.suffix == ".yaml"
    res = CliRunner().invoke(main, ["run", str(saved), "-o", str(tmp_path / "run"), "-q"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert next(t for t in summary["targets"] if t["target"] == "population")["simulated"] == shown
