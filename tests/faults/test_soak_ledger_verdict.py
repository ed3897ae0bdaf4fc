"""The soak's ledger verdict: no release unrecorded, and no row but a release or a cut answer.

A database that crashes just as it commits can lose the commit's acknowledgement but keep the
commit: the app's token request is answered `temporarily_unavailable` while its row stays.
The verdict allows exactly that, and nothing else.
"""

from __future__ import annotations

from soak.load import Run
from soak.logins import Outcome
from soak.scenarios import ledger_figure

RELEASED = Outcome("ok", released=True)
CUT = Outcome("page", "temporarily_unavailable (token)", step="token")
AT_CALLBACK = Outcome("page", "503 service_unavailable", step="callback")


def _run(*outcomes: Outcome) -> Run:
    return Run(1.0, [(0.5, outcome) for outcome in outcomes])


def test_a_row_per_released_login_passes() -> None:
    figure = ledger_figure("PostgreSQL restarted", _run(RELEASED, RELEASED, AT_CALLBACK), 2, None)
    assert figure.ok
    assert "2 rows for 2 released logins, verify passes" in figure.figure


def test_a_row_for_a_token_answer_the_crash_cut_passes_and_is_said() -> None:
    figure = ledger_figure("PostgreSQL restarted", _run(RELEASED, CUT), 2, None)
    assert figure.ok
    assert "2 rows for 1 released logins (+1 whose tokens a fault cut)" in figure.figure


def test_a_release_without_its_row_fails() -> None:
    assert not ledger_figure("PostgreSQL restarted", _run(RELEASED, RELEASED, CUT), 1, None).ok


def test_a_row_more_than_releases_and_cut_answers_fails() -> None:
    assert not ledger_figure("PostgreSQL restarted", _run(RELEASED, AT_CALLBACK), 2, None).ok
    assert not ledger_figure("PostgreSQL restarted", _run(RELEASED, CUT), 3, None).ok


def test_a_broken_chain_fails_and_says_why() -> None:
    figure = ledger_figure("PostgreSQL restarted", _run(RELEASED), 1, "row 7: hash differs")
    assert not figure.ok
    assert "verify FAILS" in figure.figure and "row 7: hash differs" in figure.problems
