"""A school admin's pages: the suppliers that ask for data, activating one under an agreement,
the release per attribute with a live preview, and suspending a supplier at once. Every change
is made in the admin's name, so the audit trail records who made it.

A release is saved only from a form built from the release as it is now (form_version.FIELD):
when another admin changed it after the page was opened, nothing is saved and the page shows the
admin's choices against the current release (409), so a second tab never silently undoes a change.

The school and the supplier always come from the URL, after the tenant check; nothing in a
form can point a change at another school or supplier.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from broker import localtime
from broker.admin import (
    activation,
    form_version,
    release_form,
    school_samples,
    supplier_notice,
)
from broker.admin import preview as previews
from broker.admin.audit_changes import actor
from broker.admin.base import (
    NotFound,
    bp,
    current_admin,
    login_required,
    page,
    school_or_404,
    supplier_or_404,
)
from broker.identity import Attributes
from broker.plain_text import is_plain, tidy
from broker.records import Policy, School, Supplier
from broker.registry import ReleaseChanged
from broker.web.current import broker
from broker.web.i18n import local_time, text

log = logging.getLogger("loper.admin")
MAX_REASON = 500


@dataclass(frozen=True)
class SupplierLine:
    supplier: Supplier
    policy: Policy | None
    released: tuple[release_form.Row, ...]
    waiting: tuple[str, ...]
    """Asked for, not released to anyone."""
    status: str
    """activation.status: "new", "inactive", "suspended", "ended", "ending" or "active"."""

    @property
    def unasked(self) -> tuple[str, ...]:
        """Released, but not (or no longer) asked for: more than the supplier says it needs."""
        return tuple(row.name for row in self.released if row.asked is None)


def _line(supplier: Supplier, policy: Policy | None, today: date) -> SupplierLine:
    shown = release_form.rows(supplier, policy)
    return SupplierLine(
        supplier, policy, tuple(r for r in shown if r.choice != "none"),
        tuple(r.name for r in shown if r.choice == "none" and r.asked is not None),
        activation.status(policy, today))


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
    today = localtime.today()
    lines = [_line(s, policies.get(s.id), today) for s in registry.suppliers()]
    lines.sort(key=lambda line: (line.status != "new", not line.unasked, not line.waiting,
                                 not line.supplier.requests, line.supplier.name.lower()))
    return page("admin/school.html", school=the_school, lines=lines)


def _test_person(form: Mapping[str, str], school: School,
                 shaped: tuple[school_samples.Shaped, ...]
                 ) -> tuple[str, dict[str, str], Attributes]:
    """The chosen sample (one in the school's own shape, or "custom"), the values typed in,
    and the attributes to preview."""
    own = {s.key: s for s in shaped}
    key = form.get("sample", previews.SAMPLES[0].key)
    if key not in previews.BY_KEY and key not in own and key != previews.CUSTOM:
        key = previews.SAMPLES[0].key
    typed = {k: v[:2000] for k, v in form.items() if k.startswith("test-")}
    if key in own:
        return key, typed, own[key].attributes
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
    shaped = school_samples.shaped(school, b.registry.school)
    key, typed, values = _test_person(form, school, shaped)
    person = previews.preview_person(b.pseudonym_keys, school, key, values)
    today = localtime.today()
    result = previews.preview(person, school, supplier, current, proposed, b.pseudonym_keys,
                              today, scope=b.settings.host,
                              issuer=b.settings.base_url)
    extra.setdefault("built_from", release_form.fingerprint(current))
    extra["built_from_field"] = form_version.FIELD
    extra.setdefault("agreement_form", activation.AgreementForm(
        (current.agreement or "") if current else "",
        current.valid_until.isoformat() if current and current.valid_until else ""))
    return page("admin/release.html", status, school=school, supplier=supplier,
                policy=current, status_now=activation.status(current, today),
                can_suspend=activation.can_suspend(current), rows=shown,
                choices=choices, preview=result,
                samples=previews.SAMPLES, custom_fields=previews.CUSTOM_FIELDS, sample=key,
                typed=typed, person=values,
                shaped=shaped, shown=next((s for s in shaped if s.key == key), None),
                changed=not release_form.same_release(current, proposed), **extra)


def _back_to_release(school: School, supplier: Supplier, message: str) -> Response:
    """After a change: flash the `message` text, and show the release page afresh."""
    flash(text("admin." + message))
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
    built_from = form_version.built_from(request.form)
    if request.form.get("action") != "save":  # keeps what the form was built from, for a save
        return _release_page(school, supplier, request.form, previewed=True,
                             built_from=built_from)
    registry = broker().registry
    current = registry.policy(school.id, supplier.id)
    # A form without the field (a page from before it existed, a hand-made POST) may have been
    # built from any release, and saving it could undo a change its admin never saw: refused as
    # stale too. The 409 page carries the field, so saving again from it goes through.
    if built_from != release_form.fingerprint(current):
        return _stale(school, supplier, current)
    choices = release_form.choices_from(request.form, release_form.rows(supplier, current))
    proposed = release_form.proposed_policy(school.id, supplier.id, current, choices)
    try:  # only over the entry just read: a change saved in the meantime is not undone
        registry.set_policy(proposed, by=current_admin().email,
                            if_current=lambda now: now == current)
    except ReleaseChanged:
        return _stale(school, supplier, registry.policy(school.id, supplier.id))
    supplier_notice.tell_supplier(school, supplier, current)
    log.info("release changed", extra={**_about(school, supplier),
                                       "attributes": ",".join(sorted(proposed.attributes)),
                                       "by_role": ";".join(f"{r}={','.join(sorted(v))}"
                                                           for r, v in proposed.by_role.items())})
    return _back_to_release(school, supplier, "saved")


def _about(school: School, supplier: Supplier) -> dict[str, object]:
    """The log fields of an admin's action on a school's supplier."""
    return {"admin": current_admin().id, "school": school.id, "supplier": supplier.id}


def _stale(school: School, supplier: Supplier, current: Policy | None) -> Response:
    """A save from a form built from another release than `current`: nothing saved (not even
    choices equal to it), 409, the admin's choices shown against `current`."""
    log.info("release not saved: changed since the form was built", extra=_about(school, supplier))
    return _release_page(school, supplier, request.form, 409, stale=True,
                         stale_by=_changed_by(school, supplier, current))


def _changed_by(school: School, supplier: Supplier, current: Policy | None) -> str | None:
    """Who last changed what the pair releases, and when, from its recent audit rows; None when
    they do not say, or their last change did not leave the release as it is now."""
    recent = broker().registry.audit_trail().entries(school.id, supplier_id=supplier.id,
                                                     limit=20)
    last = next((e for e in recent if release_form.state_release(e.before)
                 != release_form.state_release(e.after)), None)
    if last is None or release_form.state_release(last.after) != release_form.release_of(current):
        return None
    return text("admin.release_stale_by", who=actor(last.actor), when=local_time(last.at))


def _pair(school_id: str, supplier_id: str) -> tuple[School, Supplier]:
    return school_or_404(school_id), supplier_or_404(supplier_id)


def _reason() -> str:
    return tidy(request.form.get("reason", ""))


def _changed(school: School, supplier: Supplier, before: Policy | None, event: str,
             message: str) -> Response:
    """After a change made in the admin's name (and so in the audit trail): log it, tell the
    supplier's admins, and show the release page afresh with `message`."""
    log.warning("supplier %s", event, extra=_about(school, supplier))
    supplier_notice.tell_supplier(school, supplier, before)
    return _back_to_release(school, supplier, message)


@bp.post("/schools/<school_id>/suppliers/<supplier_id>/suspend")
@login_required
def suspend(school_id: str, supplier_id: str) -> Response:
    """The emergency stop of a supplier the school activated; refused (409, nothing stored)
    for one it did not, or deactivated: that one gets nothing already."""
    school, supplier = _pair(school_id, supplier_id)
    before = broker().registry.policy(school.id, supplier.id)
    if not activation.can_suspend(before):
        log.info("suspension refused: supplier not active", extra=_about(school, supplier))
        return _release_page(school, supplier, {}, 409, suspend_refused=text(
            "admin.suspend_not_active", supplier=supplier.name))
    reason = _reason()
    if not reason or len(reason) > MAX_REASON or not is_plain(reason):
        wrong = (text("admin.plain_text") if reason and not is_plain(reason)
                 else text("admin.reason_needed"))
        return _release_page(school, supplier, {}, 400, suspend_error=wrong,
                             reason=reason[:MAX_REASON])
    broker().registry.suspend(school.id, supplier.id, reason, by=current_admin().email)
    return _changed(school, supplier, before, "suspended", "suspended_now")


@bp.post("/schools/<school_id>/suppliers/<supplier_id>/resume")
@login_required
def resume(school_id: str, supplier_id: str) -> Response:
    school, supplier = _pair(school_id, supplier_id)
    before = broker().registry.policy(school.id, supplier.id)
    broker().registry.resume(school.id, supplier.id, by=current_admin().email)
    return _changed(school, supplier, before, "resumed", "resumed_now")


@bp.post("/schools/<school_id>/suppliers/<supplier_id>/activate")
@login_required
def activate(school_id: str, supplier_id: str) -> Response:
    """Activate the supplier, or change the agreement of an active one."""
    school, supplier = _pair(school_id, supplier_id)
    typed = activation.read_form(request.form, localtime.today())
    if typed.problem is not None:
        return _release_page(school, supplier, {}, 400, agreement_form=typed,
                             activate_error=text("admin." + typed.problem))
    agreement = typed.agreement()
    before = broker().registry.policy(school.id, supplier.id)
    broker().registry.activate(school.id, supplier.id, agreement=agreement.reference,
                               valid_until=agreement.valid_until, by=current_admin().email)
    still_suspended = activation.status(before, localtime.today()) == "suspended"
    return _changed(school, supplier, before, "activated",
                    "agreement_saved_suspended" if still_suspended else "activated_now")


@bp.post("/schools/<school_id>/suppliers/<supplier_id>/deactivate")
@login_required
def deactivate(school_id: str, supplier_id: str) -> Response:
    school, supplier = _pair(school_id, supplier_id)
    reason = _reason()
    if not is_plain(reason):  # the audit trail shows it as written
        return _release_page(school, supplier, {}, 400, deactivate_error=text("admin.plain_text"))
    before = broker().registry.policy(school.id, supplier.id)
    broker().registry.deactivate(school.id, supplier.id, reason=reason[:MAX_REASON] or None,
                                 by=current_admin().email)
    return _changed(school, supplier, before, "deactivated", "deactivated_now")
