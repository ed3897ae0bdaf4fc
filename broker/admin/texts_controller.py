"""Dutch and English for the school's privacy pages: the monthly report and linking pupils."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # the privacy officer's report
    "report": ("Privacyrapport", "Privacy report"),
    "report_intro": ("Per leverancier per maand: hoeveel mensen inlogden (verschillende "
                     "pseudoniemen) en welke gegevens zijn verstuurd. Uit het logboek; maanden "
                     "in Nederlandse tijd.", "Per supplier per month: how many people logged in "
                     "(distinct pseudonyms) and which attributes were sent. From the ledger; "
                     "months in Dutch time."),
    "year": ("Jaar", "Year"),
    "month": ("Maand", "Month"),
    "people": ("Mensen", "People"),
    "logins": ("Keer ingelogd", "Logins"),
    "report_caption": ("{year}: per leverancier per maand", "{year}: per supplier per month"),
    "report_empty": ("Geen vrijgaven in dit jaar.", "No releases in this year."),
    "bad_year": ("Dat jaar is niet geldig; kies een jaar als 2026.",
                 "That year is not valid; choose a year such as 2026."),
    # linking pupils in bulk
    "aliases": ("Leerlingen koppelen", "Link pupils"),
    "aliases_intro": ("Aan het begin van het schooljaar: koppel nieuwe leerlingen aan hun account "
                      "op hun vorige school, zodat elke leverancier hun geschiedenis houdt. "
                      "Leveranciers zien alleen dat hun pseudoniem blijft; de koppeling zelf "
                      "zien ze niet.", "At the start of the school year: link new pupils to "
                      "their account at their previous school, so every supplier keeps their "
                      "history. Suppliers only see that their pseudonym stays; they never see "
                      "the link itself."),
    "aliases_format": ("Een CSV-bestand (UTF-8) met deze kopregel, en één regel per leerling: "
                       "hun id bij uw school, de id van de vorige school in Loper, hun id "
                       "daar. Alles of niets: bij één fout wordt niets gekoppeld.",
                       "A CSV file (UTF-8) with this header, and one line per pupil: their id at "
                       "your school, the Loper id of their previous school, their id there. All "
                       "or nothing: with a single mistake nothing is linked."),
    "aliases_file": ("CSV-bestand", "CSV file"),
    "aliases_limit": ("maximaal {n} regels en 1 MB", "at most {n} lines and 1 MB"),
    "aliases_button": ("Koppelen", "Link"),
    "aliases_done": ("{n} leerlingen gekoppeld.", "{n} pupils linked."),
    "aliases_failed": ("Niets gekoppeld. Verbeter het bestand:",
                       "Nothing was linked. Correct the file:"),
    "aliases_no_file": ("Kies een CSV-bestand.", "Choose a CSV file."),
}
