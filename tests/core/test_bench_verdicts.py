"""`make bench` judges a run by #17's targets: each figure with its target and a verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.baseline import baseline_of
from bench.report import verdict_lines
from bench.verdicts import checks, load_baseline


def _run(concurrency: int, cpu: float, per_s: float, p50: float = 20.0,
         mode: str = "picker") -> dict[str, Any]:
    return {"concurrency": concurrency, "mode": mode, "logins": 200, "cpu_ms_per_login": cpu,
            "logins_per_s": per_s, "login_ms": {"p50": p50},
            "hops_ms": {"sso": {"p99": 10.0}}}


def _scenario(pair: str, cpu: float, per_s_c4: float) -> dict[str, Any]:
    return {"name": f"{pair} a->b", "pair": pair,
            "runs": [_run(1, cpu, 50.0), _run(4, cpu, per_s_c4)]}


def _results(**large: Any) -> dict[str, Any]:
    results: dict[str, Any] = {
        "meta": {"date": "2026-12-06 20:40", "workers": 2, "worker_class": "gthread",
                 "mode": "picker", "cpus": 2, "load_before": "0.5"},
        "main": {"scenarios": [_scenario("saml->saml", 4.8, 300.0),
                               _scenario("oidc->oidc", 4.5, 310.0),
                               _scenario("saml->oidc", 5.0, 320.0)]}}
    if large:
        results["large"] = {"schools": 50_000, "suppliers": 5_000, **large}
    return results


def _by_target(found: list[Any]) -> dict[str, Any]:
    return {check.target.split(" (")[0]: check for check in found}


def test_each_pair_is_judged_by_its_own_cpu_target() -> None:
    found = _by_target(checks(_results(), None))
    assert found["SAML->SAML broker CPU/login"].verdict == "met"
    assert found["OIDC->OIDC broker CPU/login"].verdict == "missed"  # 4.5 ms > 4 ms
    assert found["SAML->OIDC broker CPU/login"].verdict == "met"  # 5 ms is within
    assert "OIDC->SAML broker CPU/login" not in found  # not driven: no verdict to give


def test_throughput_is_judged_against_the_baseline_worst_scenario_first() -> None:
    baseline = baseline_of(_results(), "abc123", "make bench")
    for figures in baseline["scenarios"].values():
        figures["logins_per_s_c4"] = 150.0
    found = _by_target(checks(_results(), baseline))
    throughput = found["logins/s at c4 on 2 workers vs baseline"]
    assert throughput.value == 2.0 and throughput.verdict == "met"
    assert "S>S a->b" in throughput.where and "abc123" in throughput.where
    baseline["scenarios"]["saml->saml a->b"]["logins_per_s_c4"] = 151.0
    throughput = _by_target(checks(_results(), baseline))[
        "logins/s at c4 on 2 workers vs baseline"]
    assert throughput.verdict == "missed"


def test_without_a_baseline_throughput_gets_no_verdict(tmp_path: Path) -> None:
    assert load_baseline(tmp_path / "missing.json") is None
    found = _by_target(checks(_results(), None))
    assert found["logins/s at c4 on 2 workers vs baseline"].verdict == "n/a"


def test_large_registry_start_memory_and_no_slower_logins() -> None:
    slower = _run(1, 4.8 * 1.3, 0.0, p50=21.0) | {"scenario": "saml->saml a->b"}
    other_mode = _run(1, 50.0, 0.0, mode="hint") | {"scenario": "saml->saml a->b"}
    found = _by_target(checks(_results(startup_s=2.5, rss_after={"max_mb": 230.0},
                                       runs=[slower, other_mode]), None))
    assert found["large registry: worker ready"].verdict == "met"
    assert found["large registry: RSS per worker"].verdict == "missed"
    cpu = found["large registry: CPU/login vs demo registry"]
    assert cpu.verdict == "missed" and round(cpu.value, 2) == 1.3  # hint has no demo run
    assert found["large registry: login latency p50 vs demo registry"].verdict == "met"


def test_the_printed_verdicts_show_figure_target_and_verdict() -> None:
    lines = verdict_lines([{"target": "SAML->SAML broker CPU/login (c1, worst)", "limit": 5.0,
                            "unit": "ms", "value": 6.25, "where": "S>S a->b",
                            "at_least": False, "verdict": "missed"}])
    assert "<= 5.00 ms" in lines[1] and "6.25 ms" in lines[1] and "missed" in lines[1]


def test_satosa_side_by_side_needs_twenty_times_more_cpu_than_loper() -> None:
    results = _results()
    results["satosa"] = {"satosa_version": "8.6.0", "ratios": {"1": 8.2, "4": 8.1}}
    satosa = _by_target(checks(results, None))["SATOSA CPU/login over Loper's"]
    assert satosa.value == 8.2 and satosa.verdict == "missed" and "8.6.0" in satosa.where
    results["satosa"]["ratios"]["1"] = 21.0
    assert _by_target(checks(results, None))["SATOSA CPU/login over Loper's"].verdict == "met"
    assert "SATOSA CPU/login over Loper's" not in _by_target(checks(_results(), None))
