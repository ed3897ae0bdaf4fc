"""A school admin's pages: the suppliers that ask for data, the release per attribute with a
live preview, and suspending a supplier at once.

The school and the supplier always come from the URL, after the tenant check; nothing in a
form can point a change at another school or supplier.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from broker.admin import preview as previews
from broker.admin import release_form
from broker.admin.base import (
    NotFound,
    bp,
    current_admin,
    login_required,
    page,
    school_or_404,
    supplier_or_404,
    tr,
)
from broker.identity import Attributes
from broker.records import Policy, School, Supplier
from broker.web.current import broker

log = logging.getLogger("loper.admin")
MAX_REASON = 500


@dataclass(frozen=True)
class SupplierLine:
    supplier: Supplier
    policy: Policy | None
    released: tuple[release_form.Row, ...]
    waiting: tuple[str, ...]
    """Asked for, not released to anyone."""
    stopped: str | None
    """"suspended" or "ended" (the agreement's valid_until passed), else None."""


def _line(supplier: Supplier, policy: Policy | None) -> SupplierLine:
    shown = release_form.rows(supplier, policy)
    stopped = None
    if policy is not None and policy.suspended_reason is not None:
        stopped = "suspended"
    elif policy is not None and policy.valid_until and (
            policy.valid_until < datetime.now(UTC).date()):
        stopped = "ended"
    return SupplierLine(
        supplier, policy, tuple(r for r in shown if r.choice != "none"),
        tuple(r.name for r in shown if r.choice == "none" and r.why is not None), stopped)


@bp.get("/schools")
@login_required
def schools() -> Response:
    admin = current_admin()
    visible = [s for s in broker().registry.schools() if admin.can_manage_school(s.id)]
    if not visible:
        raise NotFound()
    return page("admin/schools.html", schools=visible)


@bp.get("/schools/<school_id>")
@login_required
def school(school_id: str) -> Response:
    the_school = school_or_404(school_id)
    registry = broker().registry
    policies = {p.supplier_id: p for p in registry.policies(the_school.id)}
    lines = [_line(s, policies.get(s.id)) for s in registry.suppliers()]
    lines.sort(key=lambda line: (not line.waiting, not line.supplier.requests,
                                 line.supplier.name.lower()))
    return page("admin/school.html", school=the_school, lines=lines)


def _test_person(form: Mapping[str, str],
                 school: School) -> tuple[str, dict[str, str], Attributes]:
    """The chosen sample (or "custom"), the values typed in, and the attributes to preview."""
    key = form.get("sample", previews.SAMPLES[0].key)
    if key not in previews.BY_KEY and key != previews.CUSTOM:
        key = previews.SAMPLES[0].key
    typed = {k: v[:2000] for k, v in form.items() if k.startswith("test-")}
    values = (previews.typed_attributes(typed) if key == previews.CUSTOM
              else previews.sample_attributes(school, key))
    return key, typed, values


def _release_page(school: School, supplier: Supplier, form: Mapping[str, str],
                  status: int = 200, **extra: object) -> Response:
    b = broker()
    current = b.registry.policy(school.id, supplier.id)
    shown = release_form.rows(supplier, current)
    choices = release_form.choices_from(form, shown)
    proposed = release_form.proposed_policy(school.id, supplier.id, current, choices)
    key, typed, values = _test_person(form, school)
    person = previews.preview_person(b.pseudonym_keys, school, key, values)
    result = previews.preview(person, school, supplier, current, proposed, b.pseudonym_keys,
                              datetime.now(UTC).date(), scope=b.settings.host,
                              issuer=b.settings.base_url)
    return page("admin/release.html", status, school=school, supplier=supplier,
                policy=current, rows=shown, choices=choices, preview=result,
                samples=previews.SAMPLES, sample=key, typed=typed, person=values,
                changed=not release_form.same_release(current, proposed), **extra)


def _back_to_release(school: School, supplier: Supplier, message: str) -> Response:
    """After a change: flash the `message` text, and show the release page afresh."""
    flash(tr()[message])
    return redirect(url_for("admin.release", school_id=school.id, supplier_id=supplier.id))


@bp.get("/schools/<school_id>/suppliers/<supplier_id>")
@login_required
def release(school_id: str, supplier_id: str) -> Response:
    school = school_or_404(school_id)
    return _release_page(school, supplier_or_404(supplier_id), request.args)


@bp.post("/schools/<school_id>/suppliers/<supplier_id>")
@login_required
def release_post(school_id: str, supplier_id: str) -> Response:
    school = school_or_404(school_id)
    supplier = supplier_or_404(supplier_id)
    if request.form.get("action") != "save":
        return _release_page(school, supplier, request.form, previewed=True)
    registry = broker().registry
    current = registry.policy(school.id, supplier.id)
    choices = release_form.choices_from(request.form, release_form.rows(supplier, current))
    proposed = release_form.proposed_policy(school.id, supplier.id, current, choices)
    registry.set_policy(proposed)
    log.info("release changed", extra={"admin": current_admin().id, "school": school.id,
                                       "supplier": supplier.id,
                                       "attributes": ",".join(sorted(proposed.attributes)),
                                       "by_role": ";".join(f"{r}={','.join(sorted(v))}"
                                                           for r, v in proposed.by_role.items())})
    return _back_to_release(school, supplier, "saved")


@bp.post("/schools/<school_id>/suppliers/<supplier_id>/suspend")
@login_required
def suspend(school_id: str, supplier_id: str) -> Response:
    school = school_or_404(school_id)
    supplier = supplier_or_404(supplier_id)
    reason = " ".join(request.form.get("reason", "").split())
    if not reason or len(reason) > MAX_REASON:
        return _release_page(school, supplier, {}, 400, suspend_error=tr()["reason_needed"],
                             reason=reason[:MAX_REASON])
    broker().registry.suspend(school.id, supplier.id, reason)
    log.warning("supplier suspended", extra={"admin": current_admin().id, "school": school.id,
                                             "supplier": supplier.id})
    return _back_to_release(school, supplier, "suspended_now")


@bp.post("/schools/<school_id>/suppliers/<supplier_id>/resume")
@login_required
def resume(school_id: str, supplier_id: str) -> Response:
    school = school_or_404(school_id)
    supplier = supplier_or_404(supplier_id)
    broker().registry.resume(school.id, supplier.id)
    log.warning("supplier resumed", extra={"admin": current_admin().id, "school": school.id,
                                           "supplier": supplier.id})
    return _back_to_release(school, supplier, "resumed_now")
