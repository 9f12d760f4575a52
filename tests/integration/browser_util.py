"""Debian's chromium driven by chromedriver through selenium, for the tests that open pages in a
real browser. A missing browser, driver or library is a failure (exit 1), never a skip."""

import os
import sys

try:
    import html5lib  # noqa: F401 (re-exported: the tests parse pages with it)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By  # noqa: F401 (re-exported)
except ImportError as e:
    print(f"FAIL: {e}: install python3-selenium and python3-html5lib", file=sys.stderr)
    sys.exit(1)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def chromium(profile, window="1280,1000"):
    """A headless chromium with its own profile folder, logging the console and the network
    (the tests fail on console errors and on requests to other hosts)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            print(f"FAIL: {path} is missing: install chromium and chromium-driver",
                  file=sys.stderr)
            sys.exit(1)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-extensions", f"--window-size={window}",
              f"--user-data-dir={profile}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
