"""Schemathesis hooks for test_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

Two request parts cannot be generated from a schema with a known answer, so in schema-valid
(positive) cases only:

- an `Idempotency-Key` gets a unique suffix: every generated request is a new one, never a
  retry with another body (422) or of a request still being answered (409); retries are tested
  in api/tests/test_idempotency.py;
- a `cursor` is left out: a cursor is opaque and signed by the server, so any generated one is
  rightly a 422; walking real cursors is tested in api/tests/test_paging.py.

Schema-violating (negative) cases are sent as generated, so their rejection is still checked.
"""

import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive:
        return
    if case.headers and isinstance(case.headers.get("Idempotency-Key"), str):
        case.headers["Idempotency-Key"] = f"{case.headers['Idempotency-Key'][:200]}-{uuid.uuid4().hex}"
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
