"""The measurements: Loper under gunicorn with the demo registry, then with a large registry."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from bench import hops
from bench.large import LargeSpec, build_large_registry
from bench.peers import LoginFailed
from bench.procs import Gunicorn, Usage, free_port, gunicorn, usage
from bench.run import Plan, RunResult, run
from bench.stats import census, key_sizes, summary_ms, used_memory
from bench.tls import Nginx, TlsFiles, nginx
from bench.transport import HttpTransport
from bench.world import Scenario, World


@dataclass(frozen=True)
class Options:
    logins: int = 200
    concurrency: tuple[int, ...] = (1, 4)
    budget_s: float = 15.0
    mode: str = "picker"
    batch: int = 50
    warmup: int = 8
    inflight: int = 100
    workers: int = 2
    worker_class: str | None = None
    """None: config/gunicorn.conf.py's worker model."""
    large: LargeSpec | None = LargeSpec()
    large_logins: int = 100
    tls: str = "none"
    """none: plain http to gunicorn; gunicorn: gunicorn terminates TLS; nginx: nginx does,
    with keep-alive to the browser (bench/tls.py)."""
    tls_files: TlsFiles | None = None

    def transport(self, loper: str) -> HttpTransport:
        cafile = str(self.tls_files.cert) if self.tls_files else None
        return HttpTransport(loper, keepalive=self.tls == "nginx", cafile=cafile)


@dataclass(frozen=True)
class Served:
    server: Gunicorn
    proxy: Nginx | None
    """nginx in front (--tls nginx), whose CPU counts apart from the broker's."""

    def usage(self) -> dict[int, Usage]:
        return self.proxy.worker_usage() if self.proxy else {}


@contextmanager
def serving(world: World, options: Options, env: dict[str, str], log: Path) -> Iterator[Served]:
    """Loper under gunicorn on the world's port, or behind nginx on it (--tls nginx)."""
    port = _port(world)
    files = options.tls_files
    if options.tls != "nginx":
        tls = (files.cert, files.key) if files and options.tls == "gunicorn" else None
        with gunicorn(port, env, log, options.workers, worker_class=options.worker_class,
                      tls=tls) as server:
            yield Served(server, None)
        return
    assert files is not None
    inner = free_port()
    with gunicorn(inner, {**env, "BROKER_TRUSTED_PROXIES": "1"}, log, options.workers,
                  worker_class=options.worker_class) as server, \
            nginx(log.with_name(log.stem + "-nginx"), port, inner, files) as proxy:
        yield Served(server, proxy)


def loper_env(world: World, registry_url: str | None = None) -> dict[str, str]:
    env = {"BROKER_INSTANCE": str(world.overrides["instance"]), "BROKER_BASE_URL": world.loper,
           "BROKER_STATE_URL": str(world.overrides["state_url"]),
           # every simulated pupil comes from 127.0.0.1: lift the per-address start limit
           "BROKER_LOGIN_STARTS_PER_MINUTE": "100000000"}
    if registry_url:
        env["BROKER_REGISTRY_URL"] = registry_url
    return env


def _port(world: World) -> int:
    return int(world.loper.rsplit(":", 1)[1])


def _settled(server: Gunicorn, timeout: float = 20.0) -> dict[int, Usage]:
    """Worker usage once every worker has finished booting (its CPU time stopped growing)."""
    deadline = time.monotonic() + timeout
    last = server.worker_usage()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = server.worker_usage()
        if now.keys() == last.keys() and all(now[p].cpu_s == last[p].cpu_s for p in now):
            return now
        last = now
    return last


def _rss(usage: dict[int, Usage]) -> dict[str, Any]:
    return {"workers_kb": [u.rss_kb for u in usage.values()],
            "peak_kb": [u.hwm_kb for u in usage.values()],
            "max_mb": round(max((u.rss_kb for u in usage.values()), default=0) / 1024, 1)}


def cpu_ms(before: dict[int, Usage], after: dict[int, Usage]) -> dict[str, Any]:
    pids = sorted(before.keys() & after.keys())
    per_worker = [round((after[p].cpu_s - before[p].cpu_s) * 1000, 1) for p in pids]
    return {"total_ms": round(sum(per_worker), 1), "per_worker_ms": per_worker,
            "workers_unchanged": before.keys() == after.keys()}


def summarise(result: RunResult, cpu: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    n = result.logins
    return {
        "mode": result.mode, "concurrency": result.concurrency, "logins": n,
        "errors": len(result.errors), "first_errors": result.errors[:3],
        "cpu_ms_per_login": round(cpu["total_ms"] / n, 2) if n else None,
        "cpu": cpu, "wall_s": round(result.wall_s, 3),
        "logins_per_s": round(result.per_second, 2),
        "hops_ms": {name: summary_ms(values) for name, values in result.hops.items()},
        "login_ms": summary_ms(result.totals), **extra}


def measured_run(served: Served, client: redis.Redis, scenario: Scenario, plan: Plan,
                 options: Options, loper: str, first_index: int) -> dict[str, Any]:
    transport = options.transport(loper)
    server = served.server
    redis_pid = int(client.info("server")["process_id"])
    memory, before, redis_cpu = used_memory(client), server.worker_usage(), usage(redis_pid)
    proxy = served.usage()
    own = time.process_time()
    result = run(transport, scenario, plan, loper, first_index)
    own = time.process_time() - own
    after, memory_after = server.worker_usage(), used_memory(client)
    n = max(result.logins, 1)
    proxy_ms = cpu_ms(proxy, served.usage())["total_ms"]
    return summarise(result, cpu_ms(before, after), {
        "proxy_cpu_ms_per_login": round(proxy_ms / n, 2) if served.proxy else None,
        "redis_retained_bytes_per_login": round((memory_after - memory) / n, 1),
        "redis_server_cpu_ms_per_login": round(
            (usage(redis_pid).cpu_s - redis_cpu.cpu_s) * 1000 / n, 2),
        "bench_process_cpu_ms_per_login": round(own * 1000 / n, 2)})


def inflight_state(client: redis.Redis, scenario: Scenario, count: int, options: Options,
                   loper: str) -> dict[str, Any]:
    """Start `count` logins up to the school (not finished): what each keeps in Redis."""
    memory, dataset = used_memory(client), used_memory(client, "used_memory_dataset")
    plan = Plan(logins=count, concurrency=4, mode=options.mode, finish=False)
    result = run(options.transport(loper), scenario, plan, loper, 500_000)
    grown = used_memory(client) - memory
    dataset = used_memory(client, "used_memory_dataset") - dataset
    keys = [key for login_id in result.login_ids  # stored as "<login id>.<browser hash>"
            for key in client.scan_iter(match=f"loper:pending:{login_id}.*", count=1000)]
    sizes = key_sizes(client, keys)
    if keys:
        client.delete(*keys)
    n = max(result.logins, 1)
    return {"logins": result.logins, "errors": len(result.errors),
            "used_memory_bytes_per_login": round(grown / n, 1),
            "used_memory_dataset_bytes_per_login": round(dataset / n, 1),
            "pending_key": sizes}


def main_section(world: World, redis_url: str, options: Options, log: Path) -> dict[str, Any]:
    client = redis.Redis.from_url(redis_url)
    section: dict[str, Any] = {"scenarios": []}
    try:
        with serving(world, options, loper_env(world), log) as served:
            server = served.server
            section["startup_s"] = round(server.wait_healthy(), 3)
            server.wait_workers()
            section["rss_idle"] = _rss(_settled(server))
            cpu_transport = hops.CpuTransport(options.transport(world.loper), server.worker_pids)
            index = 0
            for scenario in world.scenarios:
                print(f"  {scenario.name} ...", flush=True)
                entry: dict[str, Any] = {"name": scenario.name, "pair": scenario.pair,
                                         "school": scenario.school.id,
                                         "supplier": scenario.supplier.id,
                                         "supplier_label": scenario.supplier.label, "runs": []}
                section["scenarios"].append(entry)
                try:
                    warm = run(options.transport(world.loper), scenario,
                               Plan(logins=options.warmup, concurrency=2, verify=True,
                                    batch=options.warmup), world.loper, index)
                except LoginFailed as exc:
                    entry["error"] = str(exc)
                    print(f"    FAILED: {exc}\n{server.log_tail(15)}", flush=True)
                    continue
                index += options.warmup
                if warm.errors:
                    entry["error"] = warm.errors[0]
                    continue
                for concurrency in options.concurrency:
                    plan = Plan(logins=options.logins, concurrency=concurrency,
                                mode=options.mode, batch=options.batch,
                                budget_s=options.budget_s)
                    entry["runs"].append(measured_run(served, client, scenario, plan,
                                                      options, world.loper, index))
                    index += options.logins
                entry["per_hop"] = hops.per_hop(cpu_transport, scenario, world.loper,
                                                options.mode, index)
                index += hops.LOGINS
                if options.inflight:
                    entry["inflight"] = inflight_state(client, scenario, options.inflight,
                                                       options, world.loper)
            section["floor"] = hops.floor(cpu_transport, world.loper)
            section["rss_after"] = _rss(server.worker_usage())
            section["redis_keys"] = census(client)
            section["redis_used_memory"] = used_memory(client)
    finally:
        client.close()
    return section


def large_section(world: World, options: Options, folder: Path,
                  log: Path) -> dict[str, Any]:
    assert options.large is not None
    spec = options.large
    built = build_large_registry(folder, world.federation, world.key_version, spec)
    section: dict[str, Any] = {
        "schools": spec.schools, "suppliers": spec.suppliers,
        "releases": spec.schools * spec.releases_per_school,
        "federation_file_mb": round(built.file_bytes / 1e6, 1),
        "generate_s": built.generate_s, "import_s": built.import_s, "import": built.summary,
        "registry_url": built.url, "runs": []}
    picked = _large_scenarios(world.scenarios)
    client = redis.Redis.from_url(str(world.overrides["state_url"]))
    try:
        with serving(world, options, loper_env(world, built.url), log) as served:
            server = served.server
            section["startup_s"] = round(server.wait_healthy(), 3)
            server.wait_workers()
            section["rss_idle"] = _rss(_settled(server))
            index = 700_000
            for scenario in picked:
                try:
                    run(options.transport(world.loper), scenario, Plan(logins=2, verify=True),
                        world.loper, index)
                except LoginFailed as exc:
                    section["runs"].append({"scenario": scenario.name, "error": str(exc)})
                    continue
                for mode in ("picker", "hint"):
                    plan = Plan(logins=options.large_logins, mode=mode)
                    summary = measured_run(served, client, scenario, plan, options, world.loper,
                                           index)
                    section["runs"].append({"scenario": scenario.name, **summary})
                    index += options.large_logins
            section["rss_after"] = _rss(server.worker_usage())
    finally:
        client.close()
    return section


def _large_scenarios(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """One scenario per pair among saml->saml and oidc->oidc (else the first one)."""
    picked: dict[str, Scenario] = {}
    for scenario in scenarios:
        if scenario.pair in ("saml->saml", "oidc->oidc"):
            picked.setdefault(scenario.pair, scenario)
    return list(picked.values()) or list(scenarios[:1])
