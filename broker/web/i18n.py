"""Dutch and English for the pages pupils see; Dutch first, English on request."""

from __future__ import annotations

from flask import request

LANGUAGES = ("nl", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "choose_school": {"nl": "Kies je school", "en": "Choose your school"},
    "intro": {"nl": "Log in bij je eigen school. Loper onthoudt je keuze op dit apparaat.",
              "en": "Log in at your own school. Loper remembers your choice on this device."},
    "for_supplier": {"nl": "Je gaat naar", "en": "You are going to"},
    "search": {"nl": "Zoek op naam of plaats", "en": "Search by name or place"},
    "search_button": {"nl": "Zoeken", "en": "Search"},
    "last_choice": {"nl": "Vorige keer gekozen", "en": "Chosen last time"},
    "no_match": {"nl": "Geen school gevonden. Probeer een andere naam of plaats.",
                 "en": "No school found. Try another name or place."},
    "type_to_search": {"nl": "Typ de naam van je school of je woonplaats.",
                       "en": "Type the name of your school or your town."},
    "refine": {"nl": "Meer scholen gevonden dan hier passen: typ meer van de naam.",
               "en": "More schools match than fit here: type more of the name."},
    "schools": {"nl": "Scholen", "en": "Schools"},
    "other_language": {"nl": "English", "en": "Nederlands"},
    "logged_out": {"nl": "Je bent overal uitgelogd.", "en": "You are logged out everywhere."},
    "logout_title": {"nl": "Overal uitloggen", "en": "Log out everywhere"},
    "logout_explain": {"nl": "Log uit bij Loper op dit apparaat, zodat de volgende leerling "
                             "niet als jou inlogt.",
                       "en": "Log out of Loper on this device, so the next pupil does not "
                             "log in as you."},
    "logged_out_partly": {"nl": "Je bent uitgelogd bij Loper, maar niet overal.",
                          "en": "You are logged out of Loper, but not everywhere."},
    "nobody_logged_in": {"nl": "Er was op dit apparaat niemand ingelogd bij Loper: er was niets "
                               "om uit te loggen.",
                         "en": "Nobody was logged in to Loper on this device: there was "
                               "nothing to log out."},
    "apps_done": {"nl": "Uitgelogd bij:", "en": "Logged out of:"},
    "apps_frame": {"nl": "Gevraagd om uit te loggen (via je browser, niet bevestigd):",
                   "en": "Asked to log out (through your browser, not confirmed):"},
    "apps_none": {"nl": "Niet uitgelogd: deze apps kunnen dat niet via Loper. Log daar zelf "
                        "uit of sluit hun tabblad:",
                  "en": "Not logged out: these apps have no logout through Loper. Log out "
                        "there yourself or close their tab:"},
    "apps_failed": {"nl": "Niet bereikt: deze apps antwoordden niet. Log daar zelf uit of "
                          "sluit de browser:",
                    "en": "Could not be reached: these apps did not answer. Log out there "
                          "yourself or close the browser:"},
    "school_done": {"nl": "Ook bij je school ben je uitgelogd.",
                    "en": "You are logged out at your school too."},
    "school_none": {"nl": "Je school biedt geen uitloggen via Loper: sluit de browser, zodat "
                          "de volgende leerling niet als jou inlogt.",
                    "en": "Your school offers no logout through Loper: close the browser, so "
                          "the next pupil does not log in as you."},
    "school_failed": {"nl": "Bij je school kon Loper je niet uitloggen: sluit de browser, zodat "
                            "de volgende leerling niet als jou inlogt.",
                      "en": "Loper could not log you out at your school: close the browser, "
                            "so the next pupil does not log in as you."},
    "error_id": {"nl": "Foutcode", "en": "Error id"},
    "back_to": {"nl": "Opnieuw beginnen bij", "en": "Start again at"},
    "continue": {"nl": "Doorgaan", "en": "Continue"},
    "noscript": {"nl": "JavaScript staat uit: klik op Doorgaan.",
                 "en": "JavaScript is off: press Continue."},
    "transparency_link": {"nl": "Wat ging waarheen? Bekijk welke apps iets over je kregen.",
                          "en": "What went where? See which apps received something about you."},
}


def language() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(LANGUAGES)
    return best or "nl"


def translator(lang: str) -> dict[str, str]:
    return {key: texts.get(lang, texts["en"]) for key, texts in MESSAGES.items()}
