"""Dutch and English for the operator's page of one school (how its answers are read) and the
school preview in its own claim shapes."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "action_mapping": ("claims en rollen gewijzigd", "claims and roles changed"),
    "mapping_link": ("Claims en rollen", "Claims and roles"),
    "mapping_intro": (
        "Hoe Loper de antwoorden van deze school leest: welke claims aanwezig moeten zijn, "
        "welke claim of welk attribuut van de school welk gegeven is, en welke rol elke "
        "rolwaarde van de school is. Een wijziging wordt gecontroleerd zoals een import en "
        "komt in het overzicht van wijzigingen van de school.",
        "How Loper reads this school's answers: which claims must be present, which of the "
        "school's claims or attributes is which attribute, and which role each of the "
        "school's role values is. A change is checked as an import is, and recorded in the "
        "school's audit trail."),
    "mapping_require": ("Vereiste claims", "Required claims"),
    "mapping_require_hint": (
        "één regel per toegestane waarde; Google: hd, Entra ID: tid",
        "one line per accepted value; Google: hd, Entra ID: tid"),
    "mapping_require_example": ("hd = kompas.example.nl", "hd = kompas.example.nl"),
    "mapping_claims": ("Claims en attributen van de school", "The school's claims and attributes"),
    "mapping_claims_hint": ("gegeven = claim of attribuutnaam van de school",
                            "attribute = the school's claim or attribute Name"),
    "mapping_claims_example": ("role = roles", "role = roles"),
    "mapping_roles": ("Rollen van de school", "The school's roles"),
    "mapping_roles_hint": ("rolwaarde van de school = student of employee",
                           "the school's role value = student or employee"),
    "mapping_roles_example": ("Leerling = student", "Leerling = student"),
    "mapping_example": ("Voorbeeld:", "Example:"),
    "mapping_vocabulary": ("Gegevens:", "Attributes:"),
    "mapping_default_role": ("Rol van wie geen bekende rol heeft",
                             "Role of anyone without a known role"),
    "mapping_no_role": ("geen rol", "no role"),
    "mapping_not_saved": ("Niets opgeslagen:", "Nothing saved:"),
    "mapping_saved": ("Opgeslagen; de volgende login leest de antwoorden zo.",
                      "Saved; the next login reads the answers this way."),
    "mapping_unchanged": ("Niets veranderd.", "Nothing changed."),
    "mapping_behind": ("Deze school logt in via een hub; haar antwoorden worden gelezen zoals "
                       "die van de hub ({hub}).", "This school logs in through a hub; its "
                       "answers are read as the hub's ({hub})."),
    "mapping_match": ("Antwoorden van de hub voor deze school",
                      "The hub's answers for this school"),
    "shape_title": ("Wat {school} stuurt ({shape}) en wat Loper daarvan leest",
                    "What {school} sends ({shape}) and what Loper reads from it"),
    "shapes_title": ("Zo leest Loper een leerling en een leraar van deze school",
                     "How Loper reads a pupil and a teacher of this school"),
    "shape_sent": ("Zo stuurt de school het", "As the school sends it"),
    "shape_read": ("Zo leest Loper het", "As Loper reads it"),
    "shape_problem": ("Met dit antwoord zou inloggen mislukken:",
                      "With this answer the login would fail:"),
    "shape_hint": ("Gelezen met de claims, rollen en domeinen die de federatiebeheerder voor "
                   "uw school heeft ingesteld, door dezelfde code als een echte login. Een rol "
                   "die nergens op past wordt nooit doorgegeven.",
                   "Read with the claims, roles and domains the federation operator set for "
                   "your school, by the same code as a real login. A role that maps to nothing "
                   "is never passed on."),
    "mapping_hub": ("Deze hub antwoordt voor {n} scholen:", "This hub answers for {n} schools:"),
}
