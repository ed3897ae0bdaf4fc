"""The operator's page of one school: how its answers are read (`require`, `claims`, `roles`,
`default_role`), shown and changed. A change is checked as an import checks it, against the
other schools too (two schools at one issuer must still be told apart), and recorded in the
school's audit trail in the operator's name.
"""

from __future__ import annotations

import logging

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from broker import attributes, mapping
from broker.admin import mapping_form, school_samples
from broker.admin.base import NotFound, bp, login_required, operator_only, page
from broker.messages import Message
from broker.records import School
from broker.registry import FederationError
from broker.web.current import broker
from broker.web.i18n import text

log = logging.getLogger("loper.admin")


def _school(school_id: str) -> School:
    operator_only()
    school = broker().registry.school(school_id)
    if school is None:
        raise NotFound()
    return school


def _page(school: School, form: mapping_form.MappingForm, status: int = 200,
          problems: tuple[Message, ...] = ()) -> Response:
    registry = broker().registry
    hub = registry.school(school.behind.hub) if school.behind else None
    behind = [s for s in registry.schools() if s.behind and s.behind.hub == school.id]
    return page("admin/school_mapping.html", status, school=school, form=form,
                fields=mapping_form.editable(school), problems=problems, hub=hub,
                behind=behind, vocabulary=sorted(attributes.NAMES),
                targets=mapping.role_targets(school.guardian_role),
                shaped=school_samples.shaped(school, registry.school))


@bp.get("/operator/schools/<school_id>")
@login_required
def operator_school(school_id: str) -> Response:
    school = _school(school_id)
    return _page(school, mapping_form.form_of(school))


@bp.post("/operator/schools/<school_id>")
@login_required
def operator_school_post(school_id: str) -> Response:
    school = _school(school_id)
    if not mapping_form.editable(school):
        raise NotFound()
    edited, problems = mapping_form.read(school, request.form)
    typed = mapping_form.typed(school, request.form)
    if edited is None:
        return _page(school, typed, 400, problems)
    admin = operator_only()
    try:
        changed = broker().registry.change_school(edited, by=admin.email)
    except FederationError as exc:
        return _page(school, typed, 400, tuple(p.in_field() for p in exc.found))
    if changed:
        log.info("school mapping changed", extra={"admin": admin.id, "school": school.id})
    flash(text("admin.mapping_saved") if changed else text("admin.mapping_unchanged"))
    return redirect(url_for("admin.operator_school", school_id=school.id))
