"""/metrics under gunicorn with 2 workers (config/gunicorn.conf.py): whichever worker answers
the scrape, it reports what all of them counted, also what a worker counted before it died;
the files live in RAM (not on the instance's disk) and a new start counts from zero."""

from __future__ import annotations

import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from broker import metrics_dir
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
    env = {**make_instance(instance), metrics_dir.ENV: ""}  # config/gunicorn.conf.py's default
    folder = metrics_dir.default(instance)
    assert folder.parent == metrics_dir.SHARED_MEMORY
    try:
        # sync workers: one request at a time each
        with running_loper(env, tmp_path / "gunicorn.log", worker_class="sync") as loper:
            workers = loper.server.wait_workers()
            ask_missing_on_both_workers(loper, 59)
            # each worker that served writes its own files
            writers = {path.stem.rsplit("_", 1)[1] for path in folder.glob("*.db")}
            assert writers == {str(pid) for pid in workers}, loper.server.log_tail()
            for _ in range(10):  # answered by either worker: the same sum
                assert not_found_pages(loper) == 60
            loper.kill_worker()
            ask_missing(loper, 5)
            for _ in range(10):
                assert not_found_pages(loper) == 65
        assert not list(instance.glob("**/*.db"))  # nothing on the instance's disk
        with running_loper(env, tmp_path / "gunicorn.log") as loper:
            assert not_found_pages(loper) == 0  # a new start counts from zero
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_metrics_folder_of_someone_else_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "metrics"
    link.symlink_to(target)
    try:
        metrics_dir.prepare(link)
    except RuntimeError as exc:
        assert "not a folder of this user's own" in str(exc)
    else:
        raise AssertionError("a symbolic link was accepted as the metrics folder")
    (target / "counter_1.db").write_bytes(b"")
    metrics_dir.prepare(target)  # its own folder: emptied, private
    assert not list(target.iterdir()) and target.stat().st_mode & 0o777 == 0o700
