"""The container's health probe: exit 0 when GET /health/live (or the path given as the first
argument, e.g. /health/ready) on this instance answers 200.

Run by the image's HEALTHCHECK (`python deploy/healthcheck.py`), a liveness check: a database
outage must not mark every instance unhealthy and have it restarted. The compose file checks
readiness with `python deploy/healthcheck.py /health/ready`. The image has no curl. The
request carries a Host the app accepts (the first of ALLOWED_HOSTS) and says it came through
HTTPS, so neither the host check nor SECURE_SSL_REDIRECT turns it away.
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host() -> str:
    first = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    # ".example.com" allows example.com and its subdomains; "*" allows anything.
    host = first.lstrip(".")
    return "localhost" if host in {"", "*"} else host


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/health/live"
    url = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}{path}"
    request = urllib.request.Request(url, headers={"Host": probe_host(), "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 (a fixed http URL)
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: {path} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
