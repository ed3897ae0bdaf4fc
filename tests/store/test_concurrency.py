"""Races on both backends: of concurrent takers exactly one gets a value, of concurrent
rememberers exactly one is first; threads share one store, processes each open their own."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from broker.store import StateStore, open_store

ROUNDS = 50
RACES = ("take_code", "take_pending", "take_token", "remember_once")


def race(store: StateStore, op: str, key: str) -> bool:
    """Run one racing operation; True when this caller won."""
    if op == "take_code":
        return store.take_code(key) is not None
    if op == "take_pending":
        return store.take_pending(key) is not None
    if op == "take_token":
        return store.take_token("refresh", key) is not None
    if op == "remember_once":
        return store.remember_once("assertion", key, 60)
    raise AssertionError(op)


def prepare(store: StateStore, op: str, key: str) -> None:
    if op == "take_code":
        store.put_code(key, b"code:" + key.encode(), 60)
    elif op == "take_pending":
        store.save_pending(key, b"pending:" + key.encode(), 60)
    elif op == "take_token":
        store.put_token("refresh", key, b"token:" + key.encode(), 60)


def keys_for(op: str, tag: str) -> list[str]:
    return [f"{tag}:{op}:{n}" for n in range(ROUNDS)]


def process_worker(url: str, barrier: Any, results: Any, tag: str) -> None:
    """In a spawned process: open the store, race on every key of every op, report wins."""
    try:
        store = open_store(url)
        try:
            wins = {}
            for op in RACES:
                won = []
                for key in keys_for(op, tag):
                    barrier.wait(timeout=30)
                    won.append(race(store, op, key))
                wins[op] = won
        finally:
            store.close()
        results.put(("ok", wins))
    except BaseException:
        results.put(("error", traceback.format_exc()))
        barrier.abort()


def run_threads(store: StateStore, workers: int, op: str) -> None:
    barrier = threading.Barrier(workers)

    def worker(keys: list[str]) -> list[bool]:
        won = []
        for key in keys:
            barrier.wait(timeout=30)
            won.append(race(store, op, key))
        return won

    keys = keys_for(op, f"threads{workers}")
    for key in keys:
        prepare(store, op, key)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(worker, [keys] * workers))
    for round_ in range(ROUNDS):
        winners = sum(result[round_] for result in results)
        assert winners == 1, f"round {round_} of {op}: {winners} winners among {workers} threads"


@pytest.mark.parametrize("workers", [2, 8])
@pytest.mark.parametrize("op", RACES)
def test_threads_race(store: StateStore, op: str, workers: int) -> None:
    run_threads(store, workers, op)


def test_processes_race(store: StateStore, store_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    workers = 2
    tag = "processes"
    for op in RACES:
        for key in keys_for(op, tag):
            prepare(store, op, key)
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    processes = [ctx.Process(target=process_worker, args=(store_url, barrier, results, tag))
                 for _ in range(workers)]
    try:
        for process in processes:
            process.start()
        reports = [results.get(timeout=60) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()
        results.close()
        results.join_thread()
    errors = [detail for status, detail in reports if status != "ok"]
    assert not errors, "\n".join(errors)
    for op in RACES:
        for round_ in range(ROUNDS):
            winners = sum(wins[op][round_] for _, wins in reports)
            assert winners == 1, f"round {round_} of {op}: {winners} winners among processes"
    # Everything was taken, nothing is left.
    assert store.take_code(keys_for("take_code", tag)[0]) is None
    assert store.load_pending(keys_for("take_pending", tag)[-1]) is None


def test_concurrent_count_hit_loses_no_hit(store: StateStore) -> None:
    workers, hits = 8, 50
    counts: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(workers)

    def worker() -> None:
        barrier.wait(timeout=30)
        for _ in range(hits):
            count = store.count_hit("busy", 60)
            with lock:
                counts.append(count)

    run_all(worker, workers)
    assert sorted(counts) == list(range(1, workers * hits + 1))  # each count given exactly once


def run_all(function: Callable[[], None], workers: int) -> None:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(function) for _ in range(workers)]:
            future.result()
