"""pysaml2 keeps the exceptions it raises in local variables: a reference cycle through the
traceback that holds its open NamedTemporaryFiles (certificates, keys) until the cyclic GC
runs, with a ResourceWarning. Clearing the frames of the whole chain closes them now."""

from __future__ import annotations

import traceback


def release_frames(exc: BaseException | None) -> None:
    """Drop the locals of every frame in exc's chain of causes and contexts."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        pending.extend((current.__cause__, current.__context__))
