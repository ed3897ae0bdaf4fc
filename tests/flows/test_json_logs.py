"""log_format = "json": what Loper writes to standard error during a real login and an error
is one JSON object per line, with the login id, the error id and attribute names, and never
an attribute value or the school's user id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from broker.logs import LoperHandler
from demo.people import DEFAULT_PEOPLE
from demo.stack import running
from tests.flows.conftest import REGENBOOG, log_in_via_picker
from tests.peers.browser import Browser


@contextmanager
def written_logs() -> Iterator[io.StringIO]:
    """What Loper's log handler (as the app set it up) writes meanwhile, instead of stderr."""
    [handler] = [h for h in logging.getLogger("loper").handlers if isinstance(h, LoperHandler)]
    written = io.StringIO()
    before = handler.setStream(written)
    try:
        yield written
    finally:
        handler.setStream(before)


def test_a_login_and_an_error_are_json_lines_without_values(tmp_path: Path,
                                                            redis_url: str) -> None:
    pupil = DEFAULT_PEOPLE[0]
    with running(tmp_path, settings={"state_url": redis_url, "log_format": "json"}) as stack, \
            written_logs() as written:
        leesplein = stack.suppliers["leesplein"]
        with Browser() as browser:
            log_in_via_picker(browser, leesplein, pupil, REGENBOOG)
            assert browser.url == f"{leesplein}/", browser.text[:300]
        page = requests.get(f"{stack.broker}/discovery", params={"login": "x" * 24}, timeout=10)
        assert page.status_code == 400
    lines = [line for line in written.getvalue().splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    for event in events:
        assert {"time", "level", "logger", "message"} <= set(event), event
        assert event["time"].endswith("Z")
    [released] = [e for e in events if e["message"] == "released"]
    assert released["logger"] == "loper.flow" and released["level"] == "INFO"
    assert released["school"] == "regenboog" and released["supplier"] == "leesplein"
    assert released["attributes"] == "given_name,role"  # names only
    assert all(e["login"] == released["login"] for e in events if e.get("login")
               and e["logger"] == "loper.flow" and e.get("supplier") == "leesplein")
    [failed] = [e for e in events if e["message"] == "request failed"]
    assert failed["code"] == "login_expired" and failed["status"] == 400
    assert failed["level"] == "WARNING" and len(failed["error_id"]) == 12
    assert failed["error_id"] in page.text  # the id the pupil can quote
    everything = "\n".join(lines)
    for value in (pupil.id, pupil.given_name, pupil.family_name, pupil.email, "student"):
        assert value not in everything, value
