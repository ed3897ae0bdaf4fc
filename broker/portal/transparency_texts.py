"""Dutch and English for /me, the pupil's and parent's overview of what went where."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "me_title": {"nl": "Wat ging waarheen?", "en": "What went where?"},
    "me_anonymous": {
        "nl": "Hier zie je welke leerapps via Loper iets over jou kregen, wat en wanneer. "
              "Je ziet het nadat je op dit apparaat bij een leerapp bent ingelogd met je "
              "schoolaccount.",
        "en": "Here you see which learning apps received something about you through Loper, "
              "what and when. You see it after you have logged in at a learning app with "
              "your school account, on this device."},
    "me_school": {"nl": "Je bent ingelogd via", "en": "You are logged in through"},
    "me_intro": {
        "nl": "Je school bepaalt welke gegevens elke app krijgt. Elke app krijgt een eigen "
              "schuilnaam voor jou, zodat apps hun gegevens over jou niet aan elkaar kunnen "
              "koppelen. Je wachtwoord krijgt geen enkele app.",
        "en": "Your school decides which information each app receives. Every app gets its "
              "own code name for you, so apps cannot link what they know about you. No app "
              "ever gets your password."},
    "me_history": {"nl": "Wat apps van je kregen, nieuwste eerst",
                   "en": "What apps received about you, newest first"},
    "me_when": {"nl": "Wanneer", "en": "When"},
    "me_app": {"nl": "App", "en": "App"},
    "me_what": {"nl": "Gegevens", "en": "Information"},
    "me_code_name_only": {"nl": "alleen je schuilnaam", "en": "only your code name"},
    "me_no_history": {"nl": "Nog geen enkele app heeft via Loper iets over je gekregen.",
                      "en": "No app has received anything about you through Loper yet."},
    "me_more": {"nl": "Alleen de nieuwste {n} keer staan hier. Je school kan de rest inzien.",
                "en": "Only the newest {n} times are shown here. Your school can see the rest."},
    "me_now": {"nl": "Wat elke app nu zou krijgen", "en": "What each app would receive now"},
    "me_receives": {"nl": "Krijgt", "en": "Receives"},
    "me_status": {"nl": "Status", "en": "Status"},
    "me_open": {"nl": "Toegestaan door je school", "en": "Allowed by your school"},
    "me_suspended": {"nl": "Geschorst door je school", "en": "Suspended by your school"},
    "me_ended": {"nl": "Afspraak met je school verlopen op",
                 "en": "Agreement with your school ended on"},
    "me_nothing": {"nl": "niets", "en": "nothing"},
    "me_no_apps": {"nl": "Je school heeft nog met geen enkele app iets afgesproken.",
                   "en": "Your school has no arrangement with any app yet."},
    "me_questions": {"nl": "Vragen hierover? Vraag het je school.",
                     "en": "Questions about this? Ask your school."},
    "me_time_zone": {"nl": "Tijden in Nederlandse tijd.", "en": "Times in Dutch time."},
    "me_log_in": {"nl": "Inloggen met je schoolaccount", "en": "Log in with your school account"},
    "me_parents": {
        "nl": "Ouders en verzorgers: log in met het ouderaccount van de school, als de school "
              "dat heeft.",
        "en": "Parents and guardians: log in with the school's parent account, where the "
              "school has one."},
    "me_why": {"nl": "Waarom elke app dit krijgt", "en": "Why each app receives this"},
    "me_reason": {"nl": "Reden van de app", "en": "The app's reason"},
    "me_agreement": {"nl": "Verwerkersovereenkomst", "en": "Processing agreement"},
    "me_no_reason": {"nl": "alleen je schuilnaam: geen reden nodig",
                     "en": "only your code name: no reason needed"},
    "me_agreement_unknown": {"nl": "niet opgegeven", "en": "not given"},
    "me_correction": {"nl": "Klopt er iets niet, of wil je dat iets wordt verwijderd?",
                      "en": "Is something wrong, or do you want something deleted?"},
    "me_contact": {"nl": "Vraag het de privacycontactpersoon van je school:",
                   "en": "Ask your school's privacy contact:"},
    "me_print": {"nl": "Afdrukbare versie (om aan je ouders te laten zien)",
                 "en": "Printable version (to show your parents)"},
    "me_print_hint": {"nl": "Druk deze pagina af of bewaar hem als PDF met Afdrukken in je "
                            "browser (Ctrl+P).",
                      "en": "Print this page, or save it as a PDF, with your browser's Print "
                            "(Ctrl+P)."},
    "me_printed": {"nl": "Overzicht van", "en": "Overview of"},
    "me_child": {"nl": "Kind {n}", "en": "Child {n}"},
    "me_guardian": {"nl": "Je bent ingelogd als ouder of verzorger. Dit is wat leerapps via "
                          "Loper kregen over de kinderen die je school aan jou koppelt.",
                    "en": "You are logged in as a parent or guardian. This is what learning "
                          "apps received through Loper about the children your school links "
                          "to you."},
    "me_no_children": {"nl": "Je school koppelt (nog) geen kinderen aan je account.",
                       "en": "Your school links no children to your account (yet)."},
}

