"""Gunicorn's access log as JSON lines in the app's shape (observability/log.py): time, level, logger,
request_id (the response's ``X-Request-ID``) and the message, which is the usual access line
(``access_log_format``), so that a collector joins the access line to the request's other lines."""

import json
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger

from observability.log import redact


class JsonAccessLogger(Logger):
    """gunicorn's logger, writing each access line as one JSON object."""

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        """One JSON line per request; the same conditions as gunicorn's own access log."""
        if not self.access_log_enabled:
            return
        message = self.cfg.access_log_format % self.atoms_wrapper_class(
            self.atoms(resp, req, environ, request_time)
        )
        request_id = next((value for name, value in resp.headers if name.lower() == "x-request-id"), None)
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "request_id": request_id,
            # A token in a query string is not written (the app's log does the same).
            "message": redact(message, set()),
        }
        try:
            self.access_log.info(json.dumps(line, ensure_ascii=False))
        except Exception:  # as gunicorn's own access(): a log line must not fail a request
            self.error("Failed to format access log line")
