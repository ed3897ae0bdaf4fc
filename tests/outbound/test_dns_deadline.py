"""A DNS server that never answers costs a call no more than its deadline: the name is
resolved within it. Real glibc resolution (getaddrinfo, as Loper calls it) against a silent
DNS server on 127.0.0.1:53, inside a user and network namespace of its own (unshare), whose
/etc/resolv.conf names that server; tests/outbound/hanging_dns.py runs there and reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.outbound.hanging_dns import DEADLINE, LISTED, UNANSWERED

ROOT = Path(__file__).resolve().parents[2]
SLACK = 0.5
"""What a call may take beyond its deadline: the watchdog's wake-up and the thread's start."""
SETUP = """
ip link set lo up
echo 'nameserver 127.0.0.1' > "$0/resolv.conf"
printf '127.0.0.1 localhost\\n127.0.0.1 %s\\n' "$1" > "$0/hosts"
mount --bind "$0/resolv.conf" /etc/resolv.conf
mount --bind "$0/hosts" /etc/hosts
exec "$2" -m tests.outbound.hanging_dns
"""


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[object]]:
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    folder = tmp_path_factory.mktemp("dns")
    done = subprocess.run(
        [unshare, "--user", "--map-root-user", "--net", "--mount", "--propagation", "private",
         "sh", "-c", SETUP, str(folder), LISTED, sys.executable],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    results: dict[str, list[object]] = json.loads(done.stdout)
    return results


def test_a_silent_dns_server_times_the_call_out_at_its_deadline(
        calls: dict[str, list[object]]) -> None:
    outcome, said, seconds = calls["unanswered"]
    assert outcome == "OutboundTimeout"
    assert isinstance(said, str) and said.startswith(UNANSWERED + ":")
    assert said.endswith(f"did not answer within {DEADLINE:g} s")
    assert isinstance(seconds, float)
    assert seconds < DEADLINE + SLACK  # glibc alone would wait 10 s


def test_names_that_resolve_are_reached_by_their_address(calls: dict[str, list[object]]) -> None:
    for case in ("listed", "address"):
        outcome, said, _ = calls[case]
        assert (outcome, said) == ("answer", '{"hello": "school"}'), case
