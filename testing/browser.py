"""How the tests launch a browser: Debian's Chromium, headless, through Playwright (Playwright's
own browser download does not work here; .ci/run installs the chromium package)."""

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# CI installs chromium, so there a missing browser is a failure, not a skip.
needs_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and not os.environ.get("CI"),
    reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
)
