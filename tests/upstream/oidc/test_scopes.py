"""The scopes of an OpenID Connect school: its `domains`, and a Google school's `hd` values.

eduPersonScopedAffiliation (`eduperson_scoped_affiliation`, `student@domain`) and
schacHomeOrganization (`schac_home_organization`) are believed only within them; a value of
another domain is dropped (the log names the attribute, never the value), the rest of the login
goes on. Claims through the school's `[schools.claims]` are held to the same scopes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from broker.upstream.oidc import OidcUpstream
from tests.upstream.oidc.browser import SchoolBrowser
from tests.upstream.oidc.conftest import ServedOp, school_at

SCOPED = "eduperson_scoped_affiliation"


def test_values_within_the_schools_domains_are_kept(op: ServedOp, rp: OidcUpstream,
                                                   browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, domains=("lyceum.example", "lyceum-b.example"))
    op.tweak(claims={SCOPED: ["student@lyceum.example", "member@LYCEUM-B.example"],
                     "schac_home_organization": "lyceum.example"})
    found = browser.log_in(rp, school).finish(rp, school).identity.attributes
    assert found["scoped_affiliation"] == ("student@lyceum.example", "member@LYCEUM-B.example")
    assert found["school_domain"] == ("lyceum.example",)


def test_values_of_another_domain_are_dropped_and_only_named_in_the_log(
        op: ServedOp, rp: OidcUpstream, browser: SchoolBrowser,
        caplog: pytest.LogCaptureFixture) -> None:
    school = school_at(op.base_url)
    op.tweak(claims={SCOPED: ["student@lyceum.example", "employee@other-school.example"],
                     "schac_home_organization": "other-school.example"})
    identity = browser.log_in(rp, school).finish(rp, school).identity
    assert identity.attributes["scoped_affiliation"] == ("student@lyceum.example",)
    assert "school_domain" not in identity.attributes
    assert identity.attributes["given_name"] == ("Lotte",)  # the login itself goes on
    assert "other-school" not in caplog.text
    assert {r.__dict__.get("attribute") for r in caplog.records} >= {"scoped_affiliation",
                                                                      "school_domain"}


def test_a_school_without_domains_keeps_no_scoped_value(op: ServedOp, rp: OidcUpstream,
                                                       browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, domains=())
    op.tweak(claims={SCOPED: ["student@lyceum.example"]})
    found = browser.log_in(rp, school).finish(rp, school).identity.attributes
    assert "scoped_affiliation" not in found and "school_domain" not in found


def test_a_google_schools_hd_values_are_its_domains(op: ServedOp, rp: OidcUpstream,
                                                   browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, domains=(), require={"hd": ("kompas.example.nl",)})
    op.tweak(claims={"hd": "kompas.example.nl", SCOPED: ["student@kompas.example.nl"]})
    found = browser.log_in(rp, school).finish(rp, school).identity.attributes
    assert found["scoped_affiliation"] == ("student@kompas.example.nl",)


def test_a_mapped_claim_is_held_to_the_same_domains(op: ServedOp, rp: OidcUpstream,
                                                   browser: SchoolBrowser) -> None:
    school = replace(school_at(op.base_url), claims={"scoped_affiliation": "affiliations",
                                                     "school_domain": "org"})
    op.tweak(claims={"affiliations": ["student@lyceum.example", "student@elders.example"],
                     "org": "elders.example"})
    found = browser.log_in(rp, school).finish(rp, school).identity.attributes
    assert found["scoped_affiliation"] == ("student@lyceum.example",)
    assert "school_domain" not in found
