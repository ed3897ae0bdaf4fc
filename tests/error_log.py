"""What Loper's error pages leave in the log: the technical detail next to each error id.

A page shows a pupil what happened in plain words and the error id; why exactly (the field, the
signature, the parameter) goes to the log with that id (broker/web/errors.py). Tests that
assert the reason read it here, for servers running in this test process.
"""

from __future__ import annotations

import logging
import re

ERROR_ID = re.compile(r'class="error-id">([0-9a-f]{12})<')


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_id: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        error_id = getattr(record, "error_id", None)
        if isinstance(error_id, str):
            self.by_id[error_id] = str(getattr(record, "detail", ""))


_LOG = _ErrorLog()
logging.getLogger("loper.errors").addHandler(_LOG)


def detail(page: str) -> str:
    """The logged detail of the error page `page` ("" when it was logged elsewhere)."""
    found = ERROR_ID.search(page)
    return _LOG.by_id.get(found.group(1), "") if found else ""


def says(page: str, words: str) -> bool:
    """Whether the page, or the log next to its error id, says `words`."""
    return words in page or words in detail(page)
