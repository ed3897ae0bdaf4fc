"""What an error page says, per error code, in Dutch (the language of most pupils).

The specific message of the error (in English, as logged) follows as the detail; the Dutch
title and lead say what happened and what to do, in words a ten-year-old can follow.
"""

from __future__ import annotations

DUTCH: dict[str, tuple[str, str]] = {
    "bad_request": ("Deze inlog kan niet verder",
                    "Het inlogverzoek klopt niet. Ga terug naar de leerapp en probeer het "
                    "opnieuw."),
    "unknown_supplier": ("Onbekende leerapp",
                         "Loper kent de leerapp niet die je wil openen. Vraag je leerkracht "
                         "om hulp."),
    "unknown_school": ("Onbekende school",
                       "Loper kent deze school niet. Kies je school opnieuw."),
    "login_expired": ("Deze inlog is verlopen",
                      "Je inlog duurde te lang of is in een andere browser begonnen. Ga terug "
                      "naar de leerapp en log opnieuw in."),
    "school_response_rejected": ("Het antwoord van je school klopt niet",
                                 "Loper kon het antwoord van je school niet vertrouwen en "
                                 "heeft niets doorgestuurd. Begin opnieuw bij de leerapp."),
    "school_unavailable": ("Je school antwoordt niet",
                           "De inlogdienst van je school is nu niet bereikbaar. Probeer het "
                           "over een paar minuten opnieuw vanaf de leerapp."),
    "school_timeout": ("Je school antwoordt niet",
                       "De inlogdienst van je school reageert niet op tijd. Probeer het over "
                       "een paar minuten opnieuw vanaf de leerapp."),
    "supplier_request_rejected": ("Het verzoek van de leerapp klopt niet",
                                  "Loper stuurt niets naar deze leerapp. Begin opnieuw bij "
                                  "de leerapp of vraag je leerkracht om hulp."),
    "supplier_suspended": ("Je school heeft deze leerapp stopgezet",
                           "Zolang je school deze leerapp heeft stopgezet, kun je er niet "
                           "inloggen. Hieronder staat waarom."),
    "too_many_logins": ("Even te druk",
                        "Er zijn net heel veel inlogs gestart vanaf jouw netwerk. Wacht een "
                        "minuut en probeer het opnieuw."),
    "not_allowed_from_here": ("Niet beschikbaar vanaf jouw adres",
                              "Deze pagina is alleen voor de beheerders van Loper, vanaf "
                              "hun eigen netwerk."),
    "service_unavailable": ("Loper is even niet bereikbaar",
                            "Probeer het over een minuut opnieuw."),
    "registration_problem": ("Loper is even niet bereikbaar",
                             "De inschrijving van je school of leerapp is niet compleet. "
                             "De beheerder is gewaarschuwd."),
    "internal_error": ("Er ging bij ons iets mis",
                       "Probeer het opnieuw. Blijft het misgaan, geef dan de foutcode aan "
                       "de ICT-coördinator van je school."),
    "logout_rejected": ("Dit uitlogbericht klopt niet",
                        "Loper kon het uitlogbericht niet vertrouwen en heeft niemand "
                        "uitgelogd. Wil je uitloggen? Gebruik dan Overal uitloggen bij Loper."),
    "logout_unreachable": ("Uitloggen lukte niet overal",
                           "Een leerapp of je school was niet bereikbaar om je uit te loggen. "
                           "Sluit de browser om zeker te zijn."),
    "http_404": ("Pagina niet gevonden", "Deze pagina bestaat niet."),
    # admin accounts (broker/admin/invitations.py, password_reset.py)
    "link_unknown": ("Deze link is onbekend",
                     "Controleer of u de hele link uit de e-mail hebt geopend, of vraag een "
                     "nieuwe aan."),
    "link_used": ("Deze link is al gebruikt",
                  "Elke link werkt één keer. Log in, of vraag een nieuwe link aan."),
    "link_expired": ("Deze link is verlopen",
                     "Vraag een nieuwe uitnodiging aan degene die u uitnodigde, of kies "
                     "\"Wachtwoord vergeten?\" op de inlogpagina."),
    "already_admin": ("Al een beheerder",
                      "Dit e-mailadres hoort al bij een beheerdersaccount. Er is niets "
                      "verstuurd."),
    "mail_failed": ("De e-mail kon niet worden verstuurd",
                    "Er is geen uitnodiging gemaakt. Probeer het later opnieuw, of meld het "
                    "bij de federatiebeheerder."),
    "cannot_remove": ("Niet toegestaan",
                      "Hier verwijdert u alleen schoolbeheerders van deze school, en niet "
                      "uzelf. Er is niets veranderd."),
    "too_many_reset_requests": ("Te veel aanvragen",
                                "Er is niets verstuurd. Wacht een uur en probeer het opnieuw, "
                                "of vraag het de federatiebeheerder."),
}


def dutch(code: str) -> tuple[str, str] | None:
    return DUTCH.get(code)
