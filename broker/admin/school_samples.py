"""Test people in the school's own shape, for the release preview: a pupil and a teacher as
the school's software would send them (an Entra ID or Google ID token, an Entra ID or ADFS
assertion with Microsoft's claim URIs, ...), read by the very code a real login reads them
with: the school's `[schools.claims]`, `[schools.roles]` and `default_role`, its scopes, and
for a school behind a hub the hub's mapping and the school's `match`. No Flask here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from broker import hubs, kinds
from broker.errors import BrokerError
from broker.identity import Attributes, AuthnContext, Identity
from broker.messages import Message, msg
from broker.records import School
from broker.upstream.shapes import Sample

PREFIX = "school-"
PEOPLE = {
    "student": Sample("student", "Sanne", "de Vries", "preview-pupil", ("Groep 7a",)),
    "employee": Sample("employee", "Bram", "Visser", "preview-teacher",
                       ("Groep 7a", "Leerkrachten")),
}


@dataclass(frozen=True)
class Shaped:
    key: str
    label: Message
    shape: str
    """The school's software, as the preview names it ("Microsoft Entra ID", ...)."""
    sent: Mapping[str, object]
    """What the school sends: claims, or SAML attribute Names with their values."""
    attributes: Attributes
    """What Loper reads from it: what every supplier's release starts from."""
    problem: Message | None = None
    """Why a real login with this answer would end on Loper's error page."""


def _read(reader: School, school: School, sample: Sample
          ) -> tuple[str, Mapping[str, object], Attributes, Message | None]:
    kind = kinds.upstream(reader.protocol, f'school "{reader.id}"')
    shape, sent = kind.sample(reader, sample)
    try:
        attributes = kind.read(reader, sent)
    except BrokerError as exc:
        return shape, sent, {}, msg("admin.shape_refused", code=exc.code)
    if school.behind is not None:
        identity = Identity(reader.id, sample.subject, attributes,
                            AuthnContext(datetime.now(UTC)))
        if not hubs.matches(school, identity):
            return shape, sent, attributes, msg("admin.shape_no_match", hub=reader.name)
    return shape, sent, attributes, None


def shaped(school: School, find: Callable[[str], School | None]) -> tuple[Shaped, ...]:
    """A pupil and a teacher in `school`'s shape (its hub's, for a school behind a hub); ()
    when the school's login cannot be found."""
    reader = find(school.behind.hub) if school.behind is not None else school
    if reader is None:
        return ()
    extra = dict(school.behind.match) if school.behind is not None else {}
    found = []
    for role, person in PEOPLE.items():
        shape, sent, attributes, problem = _read(
            reader, school, dataclasses.replace(person, extra=extra))
        label = (msg("admin.sample_school_student", school=school.name, shape=shape)
                 if role == "student" else
                 msg("admin.sample_school_employee", school=school.name, shape=shape))
        found.append(Shaped(PREFIX + role, label, shape, sent, attributes, problem))
    return tuple(found)
