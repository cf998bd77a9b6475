"""The screenshot docs/explore.png: `sim explore` in headless Chromium (tests/browser_helpers.py), one lever moved.

    python docs/screenshot_explore.py                       # plan, baseline beside it, no band
    python docs/screenshot_explore.py --band outputs/uncertainty -o docs/explore.png

Starts `sim explore SCENARIO [--band FILE]` on a free port, loads the page, types LEVER=VALUE into the
lever's box, waits for the new 2030 population and saves the window as PNG. Needs chromium + chromedriver
(apt) and selenium, like the browser test.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="scenarios/plan.yaml")
    ap.add_argument("--band", help="ensemble.nc (or its directory) for sim explore --band")
    ap.add_argument("--lever", default="graduates_retained.CC_P", help="control id to move")
    ap.add_argument("--value", default="30000")
    ap.add_argument("-o", "--output", default=str(ROOT / "docs" / "explore.png"))
    ap.add_argument("--size", default="1500x1000", help="window WIDTHxHEIGHT")
    ap.add_argument("--parts", help="also save the City parts tab to this PNG")
    args = ap.parse_args()
    from tests.browser_helpers import browser, find, quit_browser, set_lever, start_server, text_of, wait_change
    width, height = map(int, args.size.split("x"))
    proc, url = start_server(args.scenario, Path(tempfile.mkdtemp(prefix="explore-shot-")),
                             args=("--band", args.band) if args.band else ())
    driver = browser(width, height)
    try:
        driver.get(url)
        find(driver, "#now-population", timeout=120)
        old = text_of(driver, "#now-population")
        set_lever(driver, args.lever, args.value)
        wait_change(driver, "#now-population", old, timeout=120)
        find(driver, "#run-state[data-state='ok']", timeout=60)
        driver.save_screenshot(args.output)
        if args.parts:
            tab = driver.execute_script(
                "function deep(root) { for (const el of root.querySelectorAll('*')) {"
                " if (el.textContent.trim() === 'City parts' && el.children.length === 0) return el;"
                " if (el.shadowRoot) { const f = deep(el.shadowRoot); if (f) return f; } } return null; }"
                "return deep(document);")
            tab.click()
            import time
            time.sleep(3)                       # the hidden tab is rendered when opened
            driver.save_screenshot(args.parts)
    finally:
        quit_browser(driver)
        proc.terminate()
        proc.wait(10)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
