"""Headless Chromium (system package, no download) driving a `sim explore` server: shared by
tests/test_explore_browser.py and benchmarks/bench_explore.py."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if p and os.path.exists(p)), None)
CHROMEDRIVER = next((p for p in (shutil.which("chromedriver"), "/usr/bin/chromedriver")
                     if p and os.path.exists(p)), None)

#: find an element by CSS selector through every shadow root (Panel renders its panes in shadow DOM)
DEEP_QUERY = """
function deep(sel, root) {
  const found = root.querySelector(sel); if (found) return found;
  for (const el of root.querySelectorAll('*')) { if (el.shadowRoot) { const f = deep(sel, el.shadowRoot); if (f) return f; } }
  return null;
}
return deep(arguments[0], document);
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(scenario: str, output: Path, cwd: Path = ROOT, timeout: float = 60, args=()):
    """``sim explore SCENARIO --port P [ARGS]`` in a subprocess; returns (process, url) once it listens."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "explore", scenario, "--port", str(port),
                             "-o", str(output), *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise RuntimeError(f"sim explore exited with {proc.returncode}")
        if "http://" in line:
            return proc, f"http://127.0.0.1:{port}/"
    proc.kill()
    raise RuntimeError("sim explore did not print its address in time")


def browser(width: int = 1500, height: int = 1100):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="sim-explore-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver._sim_profile = profile
    return driver


def quit_browser(driver) -> None:
    try:
        driver.quit()
    finally:
        shutil.rmtree(getattr(driver, "_sim_profile", ""), ignore_errors=True)


def find(driver, selector: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        el = driver.execute_script(DEEP_QUERY, selector)
        if el is not None:
            return el
        time.sleep(0.05)
    raise TimeoutError(f"no element {selector!r} on the page")


def text_of(driver, selector: str) -> str | None:
    script = DEEP_QUERY.replace("return deep(arguments[0], document);",
                                "const el = deep(arguments[0], document);\n"
                                "return el ? (el.getAttribute('data-value') || el.textContent) : null;")
    return driver.execute_script(script, selector)        # one call: the pane may be replaced in between


def wait_change(driver, selector: str, old, timeout: float = 30, poll: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = text_of(driver, selector)
        if value is not None and value != old:
            return value
        time.sleep(poll)
    raise TimeoutError(f"{selector} did not change from {old!r}")


def lever_input(driver, control_id: str):
    """The typing box of the EditableSlider of a control (``graduates_retained.JL_P``)."""
    host = find(driver, ".ctl-" + control_id.replace(".", "-"))
    return driver.execute_script(DEEP_QUERY.replace("deep(arguments[0], document)", "deep('input', arguments[0].shadowRoot || arguments[0])"), host)


def set_lever(driver, control_id: str, value, enter: bool = True):
    """Type ``value`` into the control's box (and press Enter); returns the box."""
    from selenium.webdriver.common.keys import Keys
    box = lever_input(driver, control_id)
    box.click()
    old = box.get_attribute("value") or ""
    box.send_keys(Keys.END, *([Keys.BACKSPACE] * (len(old) + 2)))     # clear the old value as a user would
    box.send_keys(str(value), *([Keys.ENTER] if enter else []))
    return box
