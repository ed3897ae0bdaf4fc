"""The supplier admin's page: which attributes their supplier asks for, and why.

Schools see these requests (with the reasons) on their release pages; asking is not getting:
only a school's release sends anything beyond the pseudonym.

The requests are saved only from a form built from them as they are now (form_version.FIELD):
when another admin (or another tab) changed them after the page was opened, nothing is saved
or told to the schools, and the page shows what the admin typed with a warning (409), so an
old page never silently drops or rewords what the other asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from broker import attributes, localtime
from broker.admin import activation, form_version, release_form, supplier_notice
from broker.admin.base import (
    NotFound,
    admins,
    bp,
    current_admin,
    login_required,
    page,
    supplier_or_404,
)
from broker.languages import LANGUAGES
from broker.plain_text import tidy
from broker.records import AttributeRequest, Policy, Supplier
from broker.registry.supplier_requests import MAX_WHY, reason_problem
from broker.web.current import broker
from broker.web.i18n import text

log = logging.getLogger("loper.admin")
MAX_SCHOOLS_SHOWN = 500


def _own(supplier_id: str) -> Supplier:
    if not current_admin().can_manage_supplier(supplier_id):
        raise NotFound()
    return supplier_or_404(supplier_id)


def _typed(form: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """attribute -> language -> the reason typed on the form, its spacing tidied (empty if it
    shows nothing)."""
    return {attr.name: {lang: tidy(form.get(f"why-{attr.name}-{lang}", ""))
                        for lang in LANGUAGES} for attr in attributes.VOCABULARY}


def _requests(form: Mapping[str, str]) -> tuple[list[AttributeRequest], dict[str, str]]:
    """The requests ticked on the form, each with its reason in every language written, and
    a problem per attribute lacking a good reason (none at all, one too long, or one that is
    not plain text), or with a reason but not ticked (saving would drop what was typed)."""
    found, problems = [], {}
    for name, typed in _typed(form).items():
        if form.get(f"ask-{name}") != "yes":
            if any(typed.values()):
                problems[name] = text("admin.why_not_asked")
            continue
        asked = AttributeRequest.of({"attribute": name} | {
            f"why_{lang}": why for lang, why in typed.items()})
        wrong = reason_problem(asked)
        if wrong is not None:
            problems[name] = (text("admin.why_needed", max=MAX_WHY)
                              if wrong == "missing_or_long" else text("admin.plain_text"))
        found.append(asked)
    return found, problems


def _version(requests: Sequence[AttributeRequest]) -> str:
    """The fingerprint of `requests` (each attribute with its reasons, in order) that a form
    built from them carries."""
    return form_version.fingerprint([r.fields() for r in requests])


def _written(requests: Sequence[AttributeRequest]) -> dict[str, dict[str, str]]:
    """attribute -> language -> the reason written for it (a reason in no stated language
    stands in every language's field, for the supplier to translate)."""
    return {r.attribute: {lang: dict(r.why_in).get(lang, r.why) for lang in LANGUAGES}
            for r in requests}


@dataclass(frozen=True)
class SchoolLine:
    school: str
    """The school's name."""
    policy: Policy
    status: str
    """activation.status of the pair."""
    released: tuple[release_form.Row, ...]


@dataclass(frozen=True)
class Schools:
    lines: tuple[SchoolLine, ...]
    total: int


def _schools(supplier: Supplier) -> Schools:
    """The schools with a release entry for this supplier, by name, and what each releases
    to it now: what the supplier's helpdesk needs to know when a school's pupils arrive
    without an attribute. (The supplier receives all of it anyway; no pupil data here.) A
    release a school saved without ever activating the supplier is left out, as if it had
    none: that school has not decided yet, and the supplier is not told of it either."""
    registry = broker().registry
    today = localtime.today()
    policies = [p for p in registry.policies(supplier_id=supplier.id) if not p.never_activated]
    named = sorted(((school.name if (school := registry.school(p.school_id)) else p.school_id,
                     p) for p in policies), key=lambda pair: pair[0].lower())
    return Schools(tuple(
        SchoolLine(name, policy, activation.status(policy, today),
                   release_form.released(supplier, policy))
        for name, policy in named[:MAX_SCHOOLS_SHOWN]), len(policies))


def _form(supplier: Supplier, requests: Sequence[AttributeRequest],
          written: Mapping[str, Mapping[str, str]], problems: dict[str, str],
          status: int = 200, *, stale: bool = False) -> Response:
    """The page: `requests` ticked, `written` the reasons in the fields (as saved, or as
    typed when something must be corrected), its form built from the supplier's requests as
    they are now; `stale`: with the warning that they changed since the admin's page."""
    return page("admin/supplier.html", status, supplier=supplier,
                asked={r.attribute for r in requests}, written=written, problems=problems,
                vocabulary=attributes.VOCABULARY, max_why=MAX_WHY, languages=LANGUAGES,
                schools=_schools(supplier), built_from=_version(supplier.requests),
                built_from_field=form_version.FIELD, stale=stale)


@bp.get("/suppliers/<supplier_id>")
@login_required
def supplier_requests(supplier_id: str) -> Response:
    supplier = _own(supplier_id)
    return _form(supplier, supplier.requests, _written(supplier.requests), {})


@bp.post("/suppliers/<supplier_id>")
@login_required
def supplier_requests_post(supplier_id: str) -> Response:
    supplier = _own(supplier_id)
    requests, problems = _requests(request.form)
    # A form without the field (a page from before it existed, a hand-made POST) may have been
    # built from any requests, and saving it could drop one another admin just added: refused
    # as stale too. The 409 page carries the current fingerprint, so saving again goes through.
    stale = form_version.built_from(request.form) != _version(supplier.requests)
    if stale:
        log.info("supplier requests not saved: changed since the form was built",
                 extra={"admin": current_admin().id, "supplier": supplier.id})
    if stale or problems:
        return _form(supplier, requests, _typed(request.form), problems, 409 if stale else 400,
                     stale=stale)
    admins().set_requests(supplier.id, requests, by=current_admin().email)
    supplier_notice.tell_schools(supplier, supplier_notice.difference(supplier.requests,
                                                                       requests))
    log.info("supplier requests changed", extra={
        "admin": current_admin().id, "supplier": supplier.id,
        "attributes": ",".join(r.attribute for r in requests) or "-"})
    flash(text("admin.saved"))
    return redirect(url_for("admin.supplier_requests", supplier_id=supplier.id))
