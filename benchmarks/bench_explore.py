"""Slider-to-redraw latency of `sim explore`, end to end in headless Chromium (docs/explore.md, README Timings).

Starts `sim explore SCENARIO` on a free port, loads the page, then repeatedly types a new value into a
lever's box (graduates retained in Jilin, alternating values) and measures the wall time from the Enter
key to the moment the page shows the new 2030 population (polled every 20 ms; includes the websocket
round trips, validation, the model run and the redraw). Also prints the model part alone
(``Explorer.compute``, in process). Needs chromium + chromedriver (apt) and selenium.

    python benchmarks/bench_explore.py --repeat 10 scenarios/baseline.yaml scenarios/plan.yaml
    python benchmarks/bench_explore.py --repeat 8 scenarios/plan.yaml --band outputs/uncertainty   # with a band
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def browser_latency(scenario: str, repeat: int, band: str | None = None) -> list[float]:
    from selenium.webdriver.common.keys import Keys

    from tests.browser_helpers import browser, find, quit_browser, set_lever, start_server, text_of, wait_change
    out = Path(tempfile.mkdtemp(prefix="bench-explore-"))
    proc, url = start_server(scenario, out, args=("--band", band) if band else ())
    driver = browser()
    times = []
    try:
        driver.get(url)
        find(driver, "#now-population", timeout=60)
        for i in range(repeat + 1):
            old = text_of(driver, "#now-population")
            box = set_lever(driver, "graduates_retained.JL_P", 5000 + 1000 * i, enter=False)
            t0 = time.perf_counter()
            box.send_keys(Keys.ENTER)
            wait_change(driver, "#now-population", old, timeout=60, poll=0.02)
            if i:                                       # the first change warms caches up
                times.append(time.perf_counter() - t0)
    finally:
        quit_browser(driver)
        proc.terminate()
    return times


def compute_time(scenario: str, repeat: int, band: str | None = None) -> list[float]:
    from simulator.explorer.state import Explorer
    ex = Explorer(scenario, tempfile.mkdtemp(prefix="bench-explore-"), reference=False)
    times = []
    for i in range(repeat + 1):
        ex.set("graduates_retained.JL_P", 5000 + 1000 * i)
        t0 = time.perf_counter()
        ex.compute()
        if i:
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", default=["scenarios/baseline.yaml"])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--band", help="ensemble.nc for sim explore --band (drawn in the browser measurement)")
    args = ap.parse_args()
    os.chdir(ROOT)
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}")
    for sc in args.scenarios:
        for what, fn in (("model (Explorer.compute)", compute_time), ("end to end in Chromium", browser_latency)):
            t = fn(sc, args.repeat, args.band)
            print(f"{sc}: {what}: min {min(t):.2f} s, median {statistics.median(t):.2f} s, max {max(t):.2f} s "
                  f"({len(t)} changes)")
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}")


if __name__ == "__main__":
    main()
