"""The test kit: what every app's tests share, loaded into pytest as the plugin `testing.plugin`
(pyproject.toml's addopts).

- plugin.py: the fixtures (the fast hasher, schema checks on every response, clean rate
  limits, users, posts, clients, a frozen clock, the `server` under gunicorn) and the quick tier;
- clients.py: `client_for`, `login`; assertions.py: `assert_error`; threads.py: `run_at_once`;
- clock.py: the clock the rate limiter reads, frozen;
- net.py: free ports and raw HTTP requests; servers.py: gunicorn as the image runs it;
  databases.py: the test database as a child process is given it, and the tests' Redis;
  image.py: what the image has (its CMD, its runtime requirements only);
- schema_check.py, browser.py, db_proxy.py, fuzz_hooks.py, client_scripts/: the schema checker,
  the browser launcher, a cuttable database proxy, Schemathesis hooks and the Node clients;
- mail.py: an SMTP handler that holds each mail before accepting it.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
"""The project's root directory (where manage.py and the Dockerfile are)."""
PASSWORD = "password123"
"""The password of every user the fixtures make (`make_user`), and `login()`'s default."""
