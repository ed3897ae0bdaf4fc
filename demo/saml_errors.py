"""Turning pysaml2's exceptions into our own without leaking what they hold."""

from __future__ import annotations


def describe_and_release(exc: BaseException) -> str:
    """A one-line description of `exc`; drops the tracebacks of its whole chain.

    Some pysaml2 exceptions are raised from a frame that keeps a reference to them
    (saml2/request.py: `incorrectly_signed`), a cycle that only the garbage collector breaks.
    Until then the frames below keep pysaml2's NamedTemporaryFile copies of certificates
    open, and when the collector does run they are finalised out of order: "unclosed file"
    ResourceWarnings at a random later moment (errors under `filterwarnings = error`).
    Without tracebacks there is no cycle and reference counting closes the files at once.
    Raise the replacement `from None`.
    """
    text = f"{type(exc).__name__}: {exc}"
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return text
