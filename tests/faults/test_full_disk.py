"""A full disk under the embedded storage (SQLite state store and registry): /healthz and
/readyz say so (503, "the disk is full") while logins get Loper's 503 page, a worker starts
even on a full disk, and Loper serves again as soon as space is freed."""

from __future__ import annotations

from pathlib import Path

from tests.faults.conftest import (
    Loper,
    SmallDisk,
    assert_loper_503,
    make_instance,
    running_loper,
)

FULL = "the disk is full"


def small_disk(tmp_path: Path) -> tuple[SmallDisk, dict[str, str]]:
    """An instance (embedded storage) for a small disk, and the environment serving it."""
    env = make_instance(tmp_path / "seed")
    (tmp_path / "disk").mkdir()
    disk = SmallDisk(tmp_path / "disk", tmp_path / "seed")
    return disk, {**env, "BROKER_INSTANCE": str(disk.instance)}


def assert_says_the_disk_is_full(loper: Loper) -> None:
    health = loper.get("/healthz")
    assert health.status_code == 503
    for part in ("store", "registry"):
        assert health.json()[part]["ok"] is False and health.json()[part]["reason"] == FULL
    ready = loper.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "store": FULL, "registry": FULL, "keys": "ok"}
    assert_loper_503(loper.login_start())


def test_a_full_disk_is_named_by_healthz_and_passes_when_space_is_freed(
        tmp_path: Path) -> None:
    disk, env = small_disk(tmp_path)
    with running_loper(env, tmp_path / "gunicorn.log", disk.wrapper()) as loper:
        assert loper.serves()
        disk.fill(loper)
        assert_says_the_disk_is_full(loper)
        disk.free(loper)
        assert loper.serves()


def test_loper_starts_on_a_full_disk_and_says_so(tmp_path: Path) -> None:
    disk, env = small_disk(tmp_path)
    log = tmp_path / "gunicorn.log"
    with running_loper(env, log, disk.wrapper(full=True), healthy=False) as loper:
        assert_says_the_disk_is_full(loper)
        text = log.read_text()
        assert f"is unavailable ({FULL}): Loper answers 503 until it is back; free space" in text
        assert "disk I/O error" not in text and "must exist and be writable" not in text
        disk.free(loper)
        assert loper.serves()
        assert loper.master_alive()
