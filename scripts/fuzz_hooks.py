"""Schemathesis hooks for scripts/fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

The coverage phase sends header values outside the document's patterns,
some of them not ASCII. The HTTP client writes a header value as latin-1,
so such a value reaches Spin as bytes that are not UTF-8, and Spin answers
500 itself before any component runs (docs/design.md; pinned by
integration/tests/spin_behaviour.rs). Those answers say nothing about the
component and would hide its own 5xx answers (schemathesis reports one
server error per operation and status code). So a non-ASCII header value is
sent as its UTF-8 bytes instead: the component gets the malformed value and
must refuse it with a 4xx, and every 5xx left in the JUnit report is a real
one.
"""

import schemathesis


@schemathesis.hook
def before_call(context, case, **kwargs):
    for name, value in list((case.headers or {}).items()):
        if isinstance(value, str) and not value.isascii():
            case.headers[name] = value.encode("utf-8").decode("latin-1")
