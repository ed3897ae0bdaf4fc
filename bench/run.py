"""Driving logins through Loper in batches, each batch in three phases:

A. (timed) the supplier's request reaches Loper's SSO entry; through the school picker
   (`picker` mode: picker page, then the pick) or straight on with a school hint (`hint` mode)
   Loper sends the browser to the school;
B. (not timed: the peers' cost) the school answers each login;
C. (timed) the school's answer reaches Loper's ACS or OIDC callback, Loper answers the supplier;
   an OIDC supplier then redeems its code at Loper's token endpoint and reads the user info.

Every hop is one request to Loper, timed from sending to the last byte of the answer. Loper's
workers are idle during phase B, so their CPU time over a run is what the logins cost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from bench.peers import LoginFailed, Started, expect, redirect_or_post
from bench.transport import Jar, Request, Response, Transport
from bench.world import Scenario

MODES = ("picker", "hint")


@dataclass
class Login:
    index: int
    started: Started
    jar: Jar = field(default_factory=dict)
    hops: dict[str, float] = field(default_factory=dict)
    hop_cpu: dict[str, float] = field(default_factory=dict)
    to_school: Request | None = None
    answer: Request | None = None
    final: Response | None = None
    error: str | None = None


@dataclass
class RunResult:
    scenario: str
    mode: str
    concurrency: int
    logins: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    """Wall time of the timed phases (A and C) only."""
    hops: dict[str, list[float]] = field(default_factory=dict)
    hop_cpu: dict[str, list[float]] = field(default_factory=dict)
    """Per hop, the workers' CPU ms of each login's request (bench/hops.py's transport)."""
    totals: list[float] = field(default_factory=list)
    """Per login: the sum of its hops (Loper's share of the login's latency)."""
    login_ids: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.logins / self.wall_s if self.wall_s else 0.0


def _hop(transport: Transport, login: Login, name: str, request: Request) -> Response:
    response = transport.send(request, login.jar)
    login.hops[name] = login.hops.get(name, 0.0) + response.seconds
    if response.cpu_ms is not None:
        login.hop_cpu[name] = login.hop_cpu.get(name, 0.0) + response.cpu_ms
    if response.status >= 400:
        raise LoginFailed(f"{name}: HTTP {response.status}: {response.text()[:300]!r}")
    return response


def _login_id(response: Response) -> str:
    expect(response.status in (302, 303) and "/discovery?" in response.location,
           "expected a redirect to the school picker", response)
    return dict(parse_qsl(urlsplit(response.location).query)).get("login", "")


def phase_a(transport: Transport, scenario: Scenario, login: Login, mode: str,
            loper: str) -> None:
    first = _hop(transport, login, "sso", login.started.request)
    if mode == "hint":
        login.to_school = redirect_or_post(first, loper)
        return
    login_id = _login_id(first)
    # A pupil types (part of) the school's name: a national federation lists no school
    # before a search.
    search = first.location + "&" + urlencode({"q": scenario.school.id})
    page = _hop(transport, login, "picker", Request("GET", search))
    expect(page.status == 200 and scenario.school.id.encode() in page.body,
           "the picker does not list the school", page)
    query = urlencode({"login": login_id, "school": scenario.school.id})
    chosen = _hop(transport, login, "choose", Request("GET", f"{loper}/discovery?{query}"))
    login.to_school = redirect_or_post(chosen, loper)


def phase_b(scenario: Scenario, login: Login) -> None:
    assert login.to_school is not None
    login.answer = scenario.school.answer(login.to_school, login.index)


def phase_c(transport: Transport, scenario: Scenario, login: Login) -> None:
    assert login.answer is not None
    name = "acs" if scenario.school.protocol == "saml" else "callback"
    login.final = _hop(transport, login, name, login.answer)
    step = scenario.supplier.answered(login.started, login.final)
    for _ in range(5):  # OIDC: token, then user info
        if step is None:
            break
        login.final = _hop(transport, login, step[0], step[1])
        step = scenario.supplier.followed(login.started, step[0], login.final)


def _guarded(step: Callable[[Login], None]) -> Callable[[Login], None]:
    def run(login: Login) -> None:
        if login.error is not None:
            return
        try:
            step(login)
        except (LoginFailed, OSError, KeyError, ValueError) as exc:
            login.error = f"{type(exc).__name__}: {exc}"
    return run


def _each(logins: list[Login], step: Callable[[Login], None], concurrency: int) -> float:
    """Run `step` on every login with `concurrency` threads; the wall time it took."""
    started = time.perf_counter()
    if concurrency <= 1:
        for login in logins:
            step(login)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(step, logins))
    return time.perf_counter() - started


@dataclass
class Plan:
    logins: int
    concurrency: int = 1
    mode: str = "picker"
    batch: int = 50
    budget_s: float = math.inf
    """Stop starting batches after this many seconds (at least one batch runs)."""
    verify: bool = False
    """Verify the first login in depth with the supplier's library."""
    finish: bool = True
    """False: phase A only, the logins stay in flight (for the state-size measurement)."""


def run(transport: Transport, scenario: Scenario, plan: Plan, loper: str,
        first_index: int = 0) -> RunResult:
    result = RunResult(scenario.name, plan.mode, plan.concurrency)
    deadline = time.monotonic() + plan.budget_s
    done = 0
    while done < plan.logins and (done == 0 or time.monotonic() < deadline):
        size = min(plan.batch, plan.logins - done)
        hint = scenario.school.id if plan.mode == "hint" else None
        logins = [Login(first_index + done + i, scenario.supplier.start(hint))
                  for i in range(size)]
        result.wall_s += _each(logins, _guarded(
            lambda lg: phase_a(transport, scenario, lg, plan.mode, loper)), plan.concurrency)
        if plan.finish:
            _each(logins, _guarded(lambda lg: phase_b(scenario, lg)), 1)
            result.wall_s += _each(logins, _guarded(
                lambda lg: phase_c(transport, scenario, lg)), plan.concurrency)
        if plan.verify and done == 0 and plan.finish:
            _verify(scenario, logins[0], transport)
        _collect(result, logins, plan.finish)
        done += size
    return result


def _verify(scenario: Scenario, login: Login, transport: Transport) -> None:
    if login.error is None:
        final = login.final
        assert final is not None
        _guarded(lambda lg: scenario.supplier.verify(lg.started, final, transport))(login)
    if login.error is not None:
        raise LoginFailed(f"{scenario.name}: the first login failed: {login.error}")


def _collect(result: RunResult, logins: Iterable[Login], finished: bool) -> None:
    for login in logins:
        if login.error is not None:
            result.errors.append(login.error)
            continue
        result.logins += 1
        for name, seconds in login.hops.items():
            result.hops.setdefault(name, []).append(seconds)
        for name, cpu_ms in login.hop_cpu.items():
            result.hop_cpu.setdefault(name, []).append(cpu_ms)
        result.totals.append(sum(login.hops.values()))
        if login.to_school is not None:
            relay = _relay(login.to_school)
            if relay:
                result.login_ids.append(relay)
        if finished and "loper_sso" in login.jar:
            result.sessions.append(login.jar["loper_sso"])


def _relay(to_school: Request) -> str:
    if to_school.form is not None:
        return to_school.form.get("RelayState", "")
    query = dict(parse_qsl(urlsplit(to_school.url).query))
    return query.get("RelayState") or query.get("state") or ""
