"""Telling schools that a supplier they work with changed what it asks for: each admin of a
school where the supplier is active gets an e-mail (in Dutch and English) naming what is new,
what is no longer asked for and what is asked for with another reason, with a link to the
school's release page for that supplier. Sent in the background; without SMTP, nothing is
sent (the school's overview and audit trail say it anyway).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from flask import url_for

from broker.admin.base import admins, mailer
from broker.admin.invitations import MAIL_BETWEEN
from broker.records import AttributeRequest, Supplier
from broker.registry.school_admins import emails_of_schools
from broker.web.current import broker
from broker.web.i18n import attribute_word, in_both_languages, text

log = logging.getLogger("loper.admin")


@dataclass(frozen=True)
class Difference:
    added: tuple[str, ...]
    dropped: tuple[str, ...]
    reworded: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.dropped or self.reworded)


def difference(before: Sequence[AttributeRequest],
               after: Sequence[AttributeRequest]) -> Difference:
    old = {r.attribute: r.fields() for r in before}
    new = {r.attribute: r.fields() for r in after}
    return Difference(tuple(name for name in new if name not in old),
                      tuple(name for name in old if name not in new),
                      tuple(name for name in new if name in old and new[name] != old[name]))


def tell_schools(supplier: Supplier, changed: Difference) -> int:
    """Mail the admins of every school where `supplier` is active; how many mails go out."""
    if not changed or not mailer().configured:
        return 0
    registry, settings, messages = broker().registry, broker().settings, []
    subject = in_both_languages(
        lambda: text("admin.mail_requests_subject", supplier=supplier.name), " / ")
    active = [p.school_id for p in registry.policies(supplier_id=supplier.id) if p.active]
    for school_id, emails in emails_of_schools(admins(), active).items():
        school = registry.school(school_id)
        if school is None or not emails:
            continue
        link = settings.url(url_for("admin.release", school_id=school.id,
                                    supplier_id=supplier.id))
        body = in_both_languages(
            functools.partial(_body, supplier.name, school.name, changed, link), MAIL_BETWEEN)
        messages += [(email, subject, body) for email in emails]
    mailer().send_all_later(messages)
    log.info("schools told of changed requests",
             extra={"supplier": supplier.id, "mails": len(messages)})
    return len(messages)


def _body(supplier: str, school: str, changed: Difference, link: str) -> str:
    lines = [text("admin.mail_requests_intro", supplier=supplier, school=school)]
    for kind, names in (("added", changed.added), ("dropped", changed.dropped),
                        ("reworded", changed.reworded)):
        if names:
            lines.append(text("admin.mail_requests_" + kind,
                              names=", ".join(attribute_word(n) for n in names)))
    lines.append(text("admin.mail_requests_review", link=link))
    return "\n".join(lines)
