"""/metrics under gunicorn with 2 workers (config/gunicorn.conf.py): whichever worker answers
the scrape, it reports what all of them counted, also what a worker counted before it died."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.conftest import Loper, make_instance, running_loper

MISSING = "/no-such-page"


def not_found_pages(loper: Loper) -> float:
    """The 404 pages counted so far, as one scrape reports them."""
    page = loper.get("/metrics")
    assert page.status_code == 200, page.text
    return sum(sample.value for family in text_string_to_metric_families(page.text)
               for sample in family.samples
               if sample.name == "loper_failures_total" and sample.labels == {"reason": "http_404"})


def ask_missing(loper: Loper, times: int) -> None:
    def one(_: int) -> int:
        return requests.get(loper.server.base_url + MISSING, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert set(pool.map(one, range(times))) == {404}


def ask_missing_on_both_workers(loper: Loper, times: int) -> None:
    """`times` + 1 requests, served by both sync workers: the first one's request arrives
    slowly, so the worker that took it (first in the queue) waits for its end while the
    other serves the rest."""
    with socket.create_connection(("127.0.0.1", loper.server.port), timeout=30) as slow:
        slow.sendall(f"GET {MISSING} HTTP/1.1\r\nHost: loper\r\n".encode())
        ask_missing(loper, times)
        slow.sendall(b"Connection: close\r\n\r\n")
        assert slow.recv(64).startswith(b"HTTP/1.1 404 ")


def test_every_scrape_adds_up_every_worker(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = make_instance(instance)
    # sync workers: one request at a time each
    with running_loper(env, tmp_path / "gunicorn.log", worker_class="sync") as loper:
        workers = loper.server.wait_workers()
        ask_missing_on_both_workers(loper, 59)
        # each worker that served writes its own file in the instance's metrics folder
        writers = {path.stem.rsplit("_", 1)[1] for path in (instance / "metrics").glob("*.db")}
        assert writers == {str(pid) for pid in workers}, loper.server.log_tail()
        for _ in range(10):  # answered by either worker: the same sum
            assert not_found_pages(loper) == 60
        loper.kill_worker()
        ask_missing(loper, 5)
        for _ in range(10):
            assert not_found_pages(loper) == 65
    with running_loper(env, tmp_path / "gunicorn.log") as loper:
        assert not_found_pages(loper) == 0  # a new start counts from zero
