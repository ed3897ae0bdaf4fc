"""Dutch and English for the admin portal; Dutch first. Placeholders use str.format names."""

from __future__ import annotations

from broker import attributes
from broker.admin import texts_accounts, texts_controller, texts_schools

LANGUAGES = ("nl", "en")

_T: dict[str, tuple[str, str]] = {
    # layout and login
    "portal": ("Beheer", "Admin"),
    "skip": ("Naar de inhoud", "Skip to content"),
    "main_nav": ("Hoofdmenu", "Main menu"),
    "other_language": ("English", "Nederlands"),
    "operator": ("Federatiebeheer", "Federation operator"),
    "suppliers": ("Leveranciers", "Suppliers"),
    "ledger": ("Logboek", "Ledger"),
    "your_schools": ("Uw scholen", "Your schools"),
    "account": ("Account", "Account"),
    "logout": ("Uitloggen", "Log out"),
    "logged_out": ("U bent uitgelogd.", "You are logged out."),
    "login_title": ("Inloggen bij Loper-beheer", "Log in to Loper admin"),
    "login_intro": ("Voor ICT-coördinatoren, privacyfunctionarissen, leveranciers en de "
                    "federatiebeheerder.", "For ICT coordinators, privacy officers, suppliers "
                    "and the federation operator."),
    "email": ("E-mailadres", "E-mail address"),
    "password": ("Wachtwoord", "Password"),
    "login_button": ("Inloggen", "Log in"),
    "login_failed": ("E-mailadres of wachtwoord klopt niet.",
                     "The e-mail address or password is not right."),
    "code_title": ("Code uit uw app", "Code from your app"),
    "code_intro": ("Typ de 6 cijfers die uw authenticator-app nu toont.",
                   "Type the 6 digits your authenticator app shows now."),
    "code": ("Code", "Code"),
    "code_button": ("Bevestigen", "Confirm"),
    "code_wrong": ("Die code klopt niet (of is al gebruikt). Probeer de volgende code.",
                   "That code is not right (or was used already). Try the next code."),
    # account and TOTP
    "role": ("Rol", "Role"),
    "role_operator": ("federatiebeheerder", "federation operator"),
    "role_school": ("schoolbeheerder", "school admin"),
    "role_supplier": ("leveranciersbeheerder", "supplier admin"),
    "totp_title": ("Tweede stap bij inloggen", "Second login step"),
    "totp_on": ("aan", "on"),
    "totp_off": ("uit", "off"),
    "totp_explain": ("Met een authenticator-app (TOTP) is een gestolen wachtwoord niet genoeg.",
                     "With an authenticator app (TOTP) a stolen password is not enough."),
    "totp_start": ("Tweede stap instellen", "Set up the second step"),
    "totp_restart": ("Opnieuw beginnen (nieuwe sleutel)", "Start again (new key)"),
    "totp_secret_once": ("Voer deze sleutel in uw authenticator-app in. Hij wordt maar één keer "
                         "getoond.", "Enter this key in your authenticator app. It is shown "
                         "only once."),
    "totp_uri": ("Of als koppeling:", "Or as a link:"),
    "totp_confirm_code": ("Code die de app nu toont", "Code the app shows now"),
    "totp_confirm": ("Bevestigen en aanzetten", "Confirm and turn on"),
    "totp_disable_code": ("Code uit uw app, om uit te zetten", "Code from your app, to turn off"),
    "totp_disable": ("Tweede stap uitzetten", "Turn the second step off"),
    "totp_enabled": ("De tweede stap staat aan.", "The second step is on."),
    "totp_disabled": ("De tweede stap staat uit.", "The second step is off."),
    # school overview
    "school_intro": ("Deze leveranciers kunnen uw leerlingen en leraren laten inloggen. Een "
                     "leverancier krijgt niets, ook geen pseudoniem, tot u hem activeert; daarna "
                     "het pseudoniem en alleen de gegevens die u vrijgeeft.", "These suppliers "
                     "can let your pupils and teachers log in. A supplier gets nothing, not even "
                     "a pseudonym, until you activate it; then the pseudonym and only the data "
                     "you release."),
    "new_summary": ("{n} nieuwe leverancier(s) wachten op uw besluit: ze krijgen niets tot u "
                    "ze activeert.", "{n} new supplier(s) wait for your decision: they get "
                    "nothing until you activate them."),
    "agreement_ending": ("De verwerkersovereenkomst met {supplier} loopt af: {day} is de "
                         "laatste dag. Daarna krijgt {supplier} niets meer.",
                         "The processing agreement with {supplier} is ending: {day} is its "
                         "last day. After that {supplier} gets nothing."),
    "agreement_ended": ("De verwerkersovereenkomst met {supplier} liep tot en met {day}; "
                        "{supplier} krijgt niets meer.", "The processing agreement with "
                        "{supplier} ran until {day}; {supplier} gets nothing any more."),
    "nothing": ("niets", "nothing"),
    "status_new": ("nieuw", "new"),
    "status_inactive": ("niet actief", "not active"),
    "status_suspended": ("opgeschort", "suspended"),
    "status_ended": ("overeenkomst verlopen", "agreement ended"),
    "status_ending": ("overeenkomst loopt af", "agreement ending"),
    "status_active": ("actief", "active"),
    "until_day": ("t/m {day}", "until {day}"),
    "activate_link": ("Bekijken en activeren", "Review and activate"),
    # activation
    "activation_title": ("Activering", "Activation"),
    "activation_intro": ("{supplier} krijgt nu niets van uw school. Na activeren krijgt "
                         "{supplier} het pseudoniem en de gegevens die u hieronder vrijgeeft.",
                         "{supplier} gets nothing from your school now. Once activated, "
                         "{supplier} gets the pseudonym and the data you release below."),
    "agreement": ("Verwerkersovereenkomst", "Processing agreement"),
    "agreement_hint": ("kenmerk, optioneel", "reference, optional"),
    "none_given": ("geen kenmerk", "no reference"),
    "valid_until_label": ("Geldig tot en met", "Valid up to and including"),
    "valid_until_hint": ("laatste dag, optioneel", "last day, optional"),
    "no_end": ("geen einddatum", "no end date"),
    "activate_button": ("Activeren", "Activate"),
    "agreement_button": ("Overeenkomst bijwerken", "Update the agreement"),
    "deactivate_reason": ("Waarom deactiveren", "Why deactivate"),
    "deactivate_button": ("Deactiveren", "Deactivate"),
    "once_activated": ("na activeren", "once activated"),
    "activated_now": ("Opgeslagen: de leverancier is actief.",
                      "Saved: the supplier is active."),
    "deactivated_now": ("Gedeactiveerd: de leverancier krijgt niets meer.",
                        "Deactivated: the supplier gets nothing any more."),
    "agreement_too_long": ("Het kenmerk is te lang (ten hoogste 200 tekens). Er is niets "
                           "opgeslagen.", "The reference is too long (at most 200 "
                           "characters). Nothing was saved."),
    "bad_valid_until": ("De datum is niet geldig; gebruik JJJJ-MM-DD. Er is niets opgeslagen.",
                        "The date is not valid; use YYYY-MM-DD. Nothing was saved."),
    "valid_until_past": ("Die datum ligt in het verleden. Er is niets opgeslagen.",
                         "That date is in the past. Nothing was saved."),
    "waiting_summary": ("{n} leverancier(s) vragen om gegevens die u nog niet hebt vrijgegeven.",
                        "{n} supplier(s) ask for data you have not released."),
    "suppliers_caption": ("Leveranciers en wat ze krijgen", "Suppliers and what they get"),
    "supplier": ("Leverancier", "Supplier"),
    "asks_for": ("Vraagt om", "Asks for"),
    "receives_now": ("Krijgt nu", "Gets now"),
    "status": ("Status", "Status"),
    "actions": ("Acties", "Actions"),
    "asks_nothing": ("niets", "nothing"),
    "pseudonym": ("pseudoniem", "pseudonym"),
    "not_released": ("niet vrijgegeven", "not released"),
    "suspended": ("opgeschort", "suspended"),
    "ended": ("overeenkomst verlopen", "agreement ended"),
    "active": ("actief", "active"),
    "manage": ("Beheren", "Manage"),
    "no_suppliers": ("Er zijn nog geen leveranciers.", "There are no suppliers yet."),
    # release page
    "all_suppliers": ("Alle leveranciers", "All suppliers"),
    "release_intro": ("Kies per gegeven of {supplier} het krijgt wanneer iemand van {school} "
                      "inlogt. Bekijk eerst het voorbeeld, en sla dan op.",
                      "Choose per attribute whether {supplier} gets it when someone of "
                      "{school} logs in. Look at the preview first, then save."),
    "is_suspended": ("Opgeschort: niemand van uw school kan nu inloggen bij deze leverancier.",
                     "Suspended: nobody of your school can log in to this supplier now."),
    "reason": ("Reden", "Reason"),
    "resume": ("Weer toestaan", "Resume"),
    "release_caption": ("Vrijgave per gegeven", "Release per attribute"),
    "attribute": ("Gegeven", "Attribute"),
    "why_asked": ("Waarom de leverancier het vraagt", "Why the supplier asks"),
    "release_to": ("Vrijgeven aan", "Release to"),
    "pseudonym_why": ("Altijd: een vaste code per leerling, alleen voor deze leverancier.",
                      "Always: a fixed code per pupil, for this supplier only."),
    "always": ("altijd", "always"),
    "sensitive": ("gevoelig", "sensitive"),
    "not_asked": ("niet (meer) gevraagd: overweeg in te trekken",
                  "not (or no longer) asked for: consider withdrawing"),
    "choice_none": ("niemand", "nobody"),
    "choice_all": ("iedereen", "everyone"),
    "choice_student": ("alleen leerlingen", "pupils only"),
    "choice_employee": ("alleen leraren", "teachers only"),
    "choice_student+employee": ("leerlingen en leraren", "pupils and teachers"),
    "asks_nothing_long": ("Deze leverancier vraagt om geen gegevens; hij krijgt alleen het "
                          "pseudoniem.", "This supplier asks for no data; it gets the "
                          "pseudonym only."),
    "preview_title": ("Voorbeeld: wat de leverancier precies krijgt",
                      "Preview: exactly what the supplier gets"),
    "preview_intro": ("Voor een testpersoon, met uw keuzes hierboven (ook als ze nog niet "
                      "opgeslagen zijn), berekend zoals bij een echte login bij {supplier}.",
                      "For a test person, with your choices above (saved or not), computed "
                      "as for a real login at {supplier}."),
    "test_person": ("Testpersoon", "Test person"),
    "custom_person": ("Eigen waarden (hieronder)", "Own values (below)"),
    "custom_values": ("Eigen testwaarden invullen", "Type your own test values"),
    "custom_hint": ("Kies \"Eigen waarden\" als testpersoon. Meerdere waarden scheidt u met "
                    "een komma; rol is student (leerling) of employee (leraar).",
                    "Choose \"Own values\" as the test person. Separate several values with "
                    "commas; role is student (pupil) or employee (teacher)."),
    "preview_button": ("Voorbeeld bekijken", "Show preview"),
    "save_button": ("Opslaan", "Save"),
    "not_saved_yet": ("nog niet opgeslagen", "not saved yet"),
    "preview_result": ("{supplier} zou dit ontvangen", "{supplier} would receive this"),
    "preview_stopped": ("Nu krijgt deze leverancier niets:", "Right now this supplier gets "
                        "nothing:"),
    "diff_title": ("Verschil met nu:", "Difference with now:"),
    "no_diff": ("Geen verschil met wat nu wordt verstuurd.", "No difference with what is sent "
                "now."),
    "saml_caption": ("SAML-attributen in de assertion", "SAML attributes in the assertion"),
    "oidc_caption": ("Claims in ID token en userinfo", "Claims in the ID token and userinfo"),
    "values_col": ("Waarde(n)", "Value(s)"),
    "profile_oid": ("Profiel oid: standaardnamen (urn:oid, NameFormat uri; OIDC-claims volgens "
                    "REFEDS).", "Profile oid: standard names (urn:oid, NameFormat uri; OIDC "
                    "claims as REFEDS names them)."),
    "profile_entree": ("Profiel entree: de namen van Entree Federatie (NameFormat basic), met "
                       "het pseudoniem als uid; attributen zonder Entree-naam houden hun "
                       "standaardnaam.", "Profile entree: Entree Federatie's names (NameFormat "
                       "basic), with the pseudonym as uid; attributes Entree has no name for "
                       "keep their standard name."),
    "change": ("Verandering", "Change"),
    "change_same": ("blijft", "unchanged"),
    "change_added": ("nieuw", "added"),
    "change_removed": ("vervalt", "removed"),
    "only_sub": ("Alleen sub (het pseudoniem).", "Only sub (the pseudonym)."),
    "payload": ("inhoud", "payload"),
    "oidc_scopes_note": ("Aangenomen: de app vraagt om openid profile email; exp, iat en at_hash "
                         "komen er bij het inloggen bij.", "Assumed: the app asks for openid "
                         "profile email; exp, iat and at_hash are added at login."),
    "suspend_title": ("Leverancier direct stoppen", "Stop this supplier at once"),
    "suspend_intro": ("Na opschorten kan niemand van uw school nog inloggen bij {supplier}; ze "
                      "zien een pagina met uw reden. U kunt het later weer toestaan.",
                      "Once suspended nobody of your school can log in to {supplier}; they "
                      "see a page with your reason. You can resume it later."),
    "reason_hint": ("leerlingen en leraren zien deze tekst", "pupils and teachers see this text"),
    "suspend_button": ("Nu opschorten", "Suspend now"),
    "reason_needed": ("Geef een reden (maximaal 500 tekens).",
                      "Give a reason (at most 500 characters)."),
    "saved": ("Opgeslagen.", "Saved."),
    "suspended_now": ("Opgeschort: inloggen bij deze leverancier is gestopt.",
                      "Suspended: logins to this supplier have stopped."),
    "resumed_now": ("Weer toegestaan.", "Resumed."),
    # ledger
    "ledger_intro": ("Wat naar welke leverancier ging en wanneer: namen van gegevens, nooit de "
                     "waarden.", "What went to which supplier and when: attribute names, "
                     "never values."),
    "date_from": ("Vanaf (datum)", "From (date)"),
    "date_to": ("Tot en met (datum)", "Up to and including (date)"),
    "filter": ("Filteren", "Filter"),
    "download_csv": ("Download als CSV", "Download as CSV"),
    "ledger_caption": ("{n} vrijgaven, nieuwste eerst", "{n} releases, newest first"),
    "ledger_more": ("(er zijn er meer: verfijn het filter of download de CSV)",
                    "(there are more: narrow the filter or download the CSV)"),
    "time_utc": ("Tijd (UTC)", "Time (UTC)"),
    "attributes_sent": ("Verstuurde gegevens", "Attributes sent"),
    "protocol": ("Protocol", "Protocol"),
    "pseudonym_only": ("alleen pseudoniem", "pseudonym only"),
    "ledger_empty": ("Geen vrijgaven gevonden.", "No releases found."),
    "unknown_supplier": ("Onbekende leverancier in het filter.",
                         "Unknown supplier in the filter."),
    "bad_date": ("Een datum is niet geldig; gebruik JJJJ-MM-DD.",
                 "A date is not valid; use YYYY-MM-DD."),
    "bad_range": ("De einddatum ligt voor de begindatum.", "The end date is before the start "
                  "date."),
    # audit trail
    "audit": ("Wijzigingen", "Changes"),
    "audit_link": ("Wie veranderde wat: het overzicht van wijzigingen",
                   "Who changed what: the audit trail"),
    "audit_intro": ("Elke wijziging door een beheerder of de federatiebeheerder aan de "
                    "gegevens van uw school: wie, wanneer, ervoor en erna.",
                    "Every change to your school's data by an admin or the federation "
                    "operator: who, when, before and after."),
    "action": ("Handeling", "Action"),
    "all_actions": ("Alle handelingen", "All actions"),
    "actor": ("Door", "By"),
    "before": ("Ervoor", "Before"),
    "after": ("Erna", "After"),
    "download_csv_semicolon": ("Download als CSV voor Excel (;)", "Download as CSV for Excel (;)"),
    "audit_caption": ("{n} wijzigingen, nieuwste eerst", "{n} changes, newest first"),
    "audit_empty": ("Geen wijzigingen gevonden.", "No changes found."),
    "bad_separator": ("Het scheidingsteken moet , of ; zijn.",
                      "The separator must be , or ;."),
    "unknown_action": ("Onbekende handeling in het filter.", "Unknown action in the filter."),
    "action_activate": ("geactiveerd", "activated"),
    "action_deactivate": ("gedeactiveerd", "deactivated"),
    "action_release": ("vrijgave gewijzigd", "release changed"),
    "action_agreement": ("overeenkomst gewijzigd", "agreement changed"),
    "action_suspend": ("opgeschort", "suspended"),
    "action_resume": ("weer toegestaan", "resumed"),
    "action_alias": ("koppeling leerling", "pupil linked"),
    "action_admin": ("beheerdersaccount", "admin account"),
    "action_role": ("rol gewijzigd", "role changed"),
    # operator
    "health": ("Gezondheid", "Health"),
    "health_store": ("Sessie-opslag", "State store"),
    "health_registry": ("Register", "Registry"),
    "down": ("storing", "down"),
    "schools_lc": ("scholen", "schools"),
    "suppliers_lc": ("leveranciers", "suppliers"),
    "verify_ledger": ("Logboek-keten controleren", "Verify the ledger chain"),
    "ledger_ok": ("Logboek in orde: {rows} regels gecontroleerd.",
                  "Ledger OK: {rows} rows verified."),
    "ledger_broken": ("Logboek BESCHADIGD: {problem}", "Ledger BROKEN: {problem}"),
    "signing_keys": ("SAML-ondertekeningssleutels", "SAML signing keys"),
    "certificate": ("Certificaat", "Certificate"),
    "valid_until": ("Geldig tot", "Valid until"),
    "days_left": ("nog {n} dagen", "{n} days left"),
    "keys_hint": ("Vervang een sleutel ruim voor hij verloopt (waarschuwing vanaf {n} dagen).",
                  "Replace a key well before it expires (warning from {n} days)."),
    "peer_certificates": ("Certificaten van scholen en leveranciers die binnenkort verlopen",
                          "School and supplier certificates expiring soon"),
    "peer_certificates_hint": ("Uit hun SAML-metadata: alles wat binnen {n} dagen verloopt.",
                               "From their SAML metadata: everything expiring within {n} days."),
    "owner": ("Van", "Of"),
    "subject": ("Onderwerp", "Subject"),
    "expired": ("verlopen", "expired"),
    "metadata_sources": ("Metadatabronnen", "Metadata sources"),
    "last_refresh": ("Laatste verversing", "Last refresh"),
    "outcome": ("Uitkomst", "Outcome"),
    "last_good": ("Laatste goede kopie", "Last good copy"),
    "outcome_fetched": ("opgehaald", "fetched"),
    "outcome_unchanged": ("ongewijzigd", "unchanged"),
    "outcome_refused": ("geweigerd", "refused"),
    "never": ("nog nooit", "never"),
    "schools": ("Scholen", "Schools"),
    "register_school": ("School registreren", "Register a school"),
    "register_supplier": ("Leverancier registreren", "Register a supplier"),
    "name": ("Naam", "Name"),
    "identity": ("Entity ID / issuer / client_id", "Entity ID / issuer / client_id"),
    "none_yet": ("Nog geen.", "None yet."),
    "admin_accounts": ("Beheerders", "Admin accounts"),
    "admin_accounts_hint": ("Schoolbeheerders nodigt u uit op de pagina Beheerders van hun "
                            "school. Andere beheerders: broker admin add E-MAIL --supplier ID | "
                            "--operator", "Invite school admins on their school's Admins "
                            "page. Other admins: broker admin add EMAIL --supplier ID | "
                            "--operator"),
    "saml_metadata": ("SAML-metadata: upload een bestand of geef een https-URL",
                      "SAML metadata: upload a file or give an https URL"),
    "metadata_file": ("Metadata-bestand", "Metadata file"),
    "max_1mb": ("XML, maximaal 1 MB", "XML, at most 1 MB"),
    "metadata_url": ("Of metadata-URL", "Or metadata URL"),
    "id_hint": ("kleine letters, cijfers, . - _; komt in URL's", "lowercase letters, digits, "
                ". - _; used in URLs"),
    "supplier_url": ("Website van de leverancier", "The supplier's website"),
    "profile": ("Profiel (hoe de attributen heten)", "Profile (what the attributes are called)"),
    "choose_oid": ("oid: standaard (urn:oid, REFEDS)", "oid: standard (urn:oid, REFEDS)"),
    "choose_entree": ("entree: zoals Entree Federatie", "entree: as Entree Federatie"),
    "optional": ("niet verplicht", "optional"),
    "client_id_hint": ("leeg: gelijk aan id", "empty: the same as id"),
    "one_per_line": ("één per regel", "one per line"),
    "secret_generated": ("Loper maakt het client secret zelf aan en toont het één keer.",
                         "Loper generates the client secret and shows it once."),
    "allow_private": ("Ook adressen in een privé-netwerk of loopback toestaan (alleen als u "
                      "weet waarom)", "Also allow private-network or loopback addresses (only "
                      "if you know why)"),
    "register_button": ("Registreren", "Register"),
    "not_registered": ("Niet geregistreerd:", "Not registered:"),
    "registered": ("Geregistreerd", "Registered"),
    "secret_once": ("Geef dit client secret veilig door aan de leverancier. Het wordt nu één "
                    "keer getoond en is daarna niet meer op te vragen.", "Pass this client "
                    "secret safely to the supplier. It is shown now, once, and cannot be shown "
                    "again."),
    "done": ("Klaar", "Done"),
    "place": ("Plaats", "Place"),
    # supplier admin
    "requests_intro": ("Geef aan welke gegevens uw dienst nodig heeft, en waarom. Scholen zien "
                       "dit en beslissen per gegeven; zonder hun besluit krijgt u alleen een "
                       "pseudoniem.", "Say which data your service needs, and why. Schools see "
                       "this and decide per attribute; without their decision you get a "
                       "pseudonym only."),
    "requests_caption": ("Gevraagde gegevens", "Requested attributes"),
    "ask": ("Vragen", "Ask"),
    "why": ("Waarom", "Why"),
    "max_chars": ("maximaal {n} tekens", "at most {n} characters"),
    "why_needed": ("Geef een reden (1 tot {max} tekens).",
                   "Give a reason (1 to {max} characters)."),
    "fix_below": ("Niets opgeslagen: vul de ontbrekende redenen hieronder aan.",
                  "Nothing saved: add the missing reasons below."),
}

_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "role": ("rol (leerling, leraar)", "role (pupil, teacher)"),
    "given_name": ("voornaam", "given name"),
    "family_name": ("achternaam", "family name"),
    "display_name": ("volledige naam", "display name"),
    "email": ("e-mailadres", "e-mail address"),
    "school_domain": ("schooldomein", "school domain"),
    "school_id": ("schoolnummer (BRIN)", "school number (BRIN)"),
    "school_name": ("naam van de school", "school name"),
    "branch_id": ("vestiging van de school (BRIN6)", "school location (BRIN6)"),
    "scoped_affiliation": ("rol op de school (leerling@school)",
                           "role at the school (student@school)"),
    "groups": ("klassen en groepen", "classes and groups"),
    "eck_id": ("ECK iD", "ECK iD"),
    "profile_id": ("profielnummer bij de school", "profile id at the school"),
    "real_id": ("persoonsnummer bij de school", "real id at the school"),
}

_T |= texts_controller.TEXTS | texts_schools.TEXTS
_T |= texts_accounts.TEXTS


def _pick(texts: dict[str, tuple[str, str]], lang: str) -> dict[str, str]:
    index = 1 if lang == "en" else 0
    return {key: pair[index] for key, pair in texts.items()}


def translator(lang: str) -> dict[str, str]:
    return _pick(_T, lang)


def attribute_label(lang: str) -> dict[str, str]:
    """Internal attribute name -> label, in vocabulary order."""
    labels = _pick(_ATTRIBUTES, lang)
    return {a.name: labels.get(a.name, a.label or a.name) for a in attributes.VOCABULARY}

