"""The supplier admin's page: which attributes their supplier asks for, and why.

Schools see these requests (with the reasons) on their release pages; asking is not getting:
only a school's release sends anything beyond the pseudonym.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from broker import attributes
from broker.admin.base import (
    NotFound,
    admins,
    bp,
    current_admin,
    login_required,
    page,
    supplier_or_404,
)
from broker.records import AttributeRequest, Supplier
from broker.registry.admins import MAX_WHY
from broker.web.i18n import text

log = logging.getLogger("loper.admin")


def _own(supplier_id: str) -> Supplier:
    if not current_admin().can_manage_supplier(supplier_id):
        raise NotFound()
    return supplier_or_404(supplier_id)


def _requests(form: Mapping[str, str]) -> tuple[list[AttributeRequest], dict[str, str]]:
    """The requests ticked on the form, and a problem per attribute lacking a good reason."""
    found, problems = [], {}
    for attr in attributes.VOCABULARY:
        if form.get(f"ask-{attr.name}") != "yes":
            continue
        why = " ".join(form.get(f"why-{attr.name}", "").split())
        if not why or len(why) > MAX_WHY:
            problems[attr.name] = text("admin.why_needed", max=MAX_WHY)
        found.append(AttributeRequest(attr.name, why))
    return found, problems


@bp.get("/suppliers/<supplier_id>")
@login_required
def supplier_requests(supplier_id: str) -> Response:
    supplier = _own(supplier_id)
    asked = {r.attribute: r.why for r in supplier.requests}
    return page("admin/supplier.html", supplier=supplier, asked=asked, problems={},
                vocabulary=attributes.VOCABULARY, max_why=MAX_WHY)


@bp.post("/suppliers/<supplier_id>")
@login_required
def supplier_requests_post(supplier_id: str) -> Response:
    supplier = _own(supplier_id)
    requests, problems = _requests(request.form)
    if problems:
        return page("admin/supplier.html", 400, supplier=supplier,
                    asked={r.attribute: r.why for r in requests}, problems=problems,
                    vocabulary=attributes.VOCABULARY, max_why=MAX_WHY)
    admins().set_requests(supplier.id, requests)
    log.info("supplier requests changed", extra={
        "admin": current_admin().id, "supplier": supplier.id,
        "attributes": ",".join(r.attribute for r in requests) or "-"})
    flash(text("admin.saved"))
    return redirect(url_for("admin.supplier_requests", supplier_id=supplier.id))
