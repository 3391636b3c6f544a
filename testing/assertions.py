"""One assertion for the contract's error answers (docs/api.md, "Errors"): `{"detail": "text"}`,
or for a 422 `{"detail": [{"loc": [...], "msg": str, "type": str}, ...]}`."""

from collections.abc import Collection, Mapping
from typing import Any


def assert_error(
    response: Any,
    status: int | Collection[int],
    detail: str | list | None = None,
    loc: list | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """Assert that `response` is the contract's error answer, and return its JSON body.

    `response` is a test client's response or a `testing.net.Response` (over HTTP). `status` is
    the status code, or the codes any one of which will do. The body always has the contract's
    shape: `detail` a string, or for a 422 a non-empty list of errors with exactly `loc`, `msg`
    and `type`. With `detail` the body must be exactly `{"detail": detail}`; with `loc` (a 422)
    the first error's `loc` must equal it; with `headers` each named header must have exactly
    that value (e.g. `{"WWW-Authenticate": "Bearer"}`, `{"Retry-After": "60"}`).
    Raises AssertionError naming what differs.
    """
    code = response.status_code if hasattr(response, "status_code") else response.status
    content = response.content if hasattr(response, "content") else response.body
    statuses = {status} if isinstance(status, int) else set(status)
    assert code in statuses, f"status {code}, not {sorted(statuses)}: {content[:500]!r}"
    body = response.json()
    assert set(body) == {"detail"}, body
    if code == 422:
        assert isinstance(body["detail"], list) and body["detail"], body
        assert all(set(error) == {"loc", "msg", "type"} for error in body["detail"]), body
    else:
        assert isinstance(body["detail"], str), body
    if detail is not None:
        assert body == {"detail": detail}, body
    if loc is not None:
        assert code == 422, f"loc is only in a 422's errors, this is a {code}"
        assert body["detail"][0]["loc"] == loc, body
    for name, value in (headers or {}).items():
        assert response.headers.get(name) == value, f"{name}: {response.headers.get(name)!r}, not {value!r}"
    return body
