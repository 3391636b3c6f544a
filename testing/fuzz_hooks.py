"""Schemathesis hooks for test_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

Three request parts cannot be generated from a schema with a known answer, so in schema-valid
(positive) cases only:

- an `Idempotency-Key` gets a unique suffix: every generated request is a new one, never a
  retry with another body (422) or of a request still being answered (409); retries are tested
  in api/tests/test_idempotency.py;
- a `cursor` is left out: a cursor is opaque and signed by the server, so any generated one is
  rightly a 422; walking real cursors is tested in api/tests/test_paging.py;
- a path id that a link of the stateful phase could not find in the response it follows (an id
  of `comments[0]` in an export with no comments) is sent as schemathesis leaves it, the text
  `None`, which is rightly a 422: here it is an id no row has instead (MISSING, a 404), what
  following such a link means.

Schema-violating (negative) cases are sent as generated, so their rejection is still checked.
"""

import uuid

import schemathesis

# A well-formed id (a 64-bit integer, as the schema's path ids are) that no row has.
MISSING = 2**63 - 1


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive:
        return
    if case.headers and isinstance(case.headers.get("Idempotency-Key"), str):
        case.headers["Idempotency-Key"] = f"{case.headers['Idempotency-Key'][:200]}-{uuid.uuid4().hex}"
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
    for name, value in (case.path_parameters or {}).items():
        if value is None or value == "None":
            case.path_parameters[name] = MISSING
