"""Telling each side of a school-supplier pair what the other changed, by e-mail (in Dutch
and English, sent in the background; without SMTP nothing is sent, and the portal's pages say
it anyway):

- a supplier changed what it asks for: each admin of a school where it is active hears what
  is newly asked for, no longer asked for and reworded, with a link to that release page;
- a school activated, suspended, resumed or deactivated a supplier, or changed what it
  releases to it (not a release prepared before activating): the supplier's admins hear it,
  with what they receive from that school now (never the school's reason for a suspension:
  that is for its pupils).
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from flask import render_template, url_for

from broker import localtime
from broker.admin import activation, release_form
from broker.admin.base import admins, mailer
from broker.admin.invitations import MAIL_BETWEEN
from broker.records import AttributeRequest, Policy, School, Supplier
from broker.registry.school_admins import emails_of_schools, emails_of_supplier
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


EVENTS = {"active": "activated", "suspended": "suspended", "inactive": "deactivated",
          "ended": "ended"}
"""The pair's status after a school's change -> what the supplier is told happened."""


def _status(policy: Policy | None) -> str:
    """activation.status, with an agreement about to end counted as active."""
    found = activation.status(policy, localtime.today())
    return "active" if found == "ending" else found


def tell_supplier(school: School, supplier: Supplier, before: Policy | None) -> bool:
    """Mail `supplier`'s admins what `school` just changed for them (compared with `before`,
    the release entry as it was); False when nothing they would notice changed."""
    if not mailer().configured:
        return False
    after = broker().registry.policy(school.id, supplier.id)
    was, now = _status(before), _status(after)
    released = release_form.released(supplier, after)
    if now == "new":  # a release prepared before activating: the supplier sees none of it
        event = None
    elif was == now:
        event = "release" if released != release_form.released(supplier, before) else None
    else:
        event = "resumed" if (was, now) == ("suspended", "active") else EVENTS.get(now)
    emails = emails_of_supplier(admins(), supplier.id)
    if event is None or not emails:
        return False
    link = broker().settings.url(url_for("admin.supplier_requests", supplier_id=supplier.id,
                                         _anchor="schools"))
    subject = in_both_languages(lambda: text(
        "admin.mail_pair_subject", supplier=supplier.name, school=school.name), " / ")
    body = in_both_languages(lambda: "\n".join((
        text("admin.mail_pair_" + event, supplier=supplier.name, school=school.name),
        text("admin.mail_pair_receives", school=school.name,
             names=html.unescape(render_template(
                 "admin/_receives_line.txt", released=released,
                 status="inactive" if now in ("suspended", "ended") else now).strip())),
        text("admin.mail_pair_more", link=link))), MAIL_BETWEEN)
    mailer().send_all_later([(email, subject, body) for email in emails])
    log.info("supplier told of a school's change",
             extra={"school": school.id, "supplier": supplier.id, "event": event})
    return True
