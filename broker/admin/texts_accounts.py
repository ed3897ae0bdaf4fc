"""Dutch and English for admin accounts: invitations, the admins of a school, password reset,
the TOTP QR code and recovery codes, and the e-mails Loper sends to admins."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # a school's admins
    "school_admins": ("Beheerders", "Admins"),
    "school_admins_intro": ("Wie de gegevens van {school} in Loper beheert. Elke uitnodiging, "
                            "elk nieuw account en elke verwijdering staat in het overzicht van "
                            "wijzigingen.", "Who manages the data of {school} in Loper. Every "
                            "invitation, new account and removal is in the audit trail."),
    "second_step": ("Tweede stap", "Second step"),
    "you": ("(u)", "(you)"),
    "remove_admin": ("Verwijderen", "Remove"),
    "removed_admin": ("{email} beheert {school} niet meer.",
                      "{email} no longer manages {school}."),
    "no_admins": ("Deze school heeft nog geen beheerders.", "This school has no admins yet."),
    "invitations": ("Openstaande uitnodigingen", "Open invitations"),
    "invited_by": ("Uitgenodigd door", "Invited by"),
    "invitation_until": ("Geldig tot", "Valid until"),
    "withdraw": ("Intrekken", "Withdraw"),
    "withdrawn": ("De uitnodiging is ingetrokken.", "The invitation has been withdrawn."),
    "invite_title": ("Beheerder uitnodigen", "Invite an admin"),
    "invite_intro": ("De nieuwe beheerder krijgt een e-mail met een persoonlijke link, die "
                     "{hours} uur geldig is en één keer werkt. Met die link kiest hij of zij "
                     "een wachtwoord.", "The new admin gets an e-mail with a personal link that "
                     "is valid for {hours} hours and works once. With it they choose a "
                     "password."),
    "invite_button": ("Uitnodiging versturen", "Send the invitation"),
    "invite_no_mail": ("Loper verstuurt hier geen e-mail (er is geen mailserver ingesteld): u "
                       "krijgt de link te zien en geeft die zelf door.",
                       "Loper sends no e-mail here (no mail server is set up): you see the "
                       "link and pass it on yourself."),
    "invite_sent": ("De uitnodiging is verstuurd naar {email}.",
                    "The invitation has been sent to {email}."),
    "invite_link": ("Uitnodiging gemaakt. Geef deze link veilig door aan {email}; hij werkt "
                    "één keer en wordt niet nog eens getoond:", "Invitation made. Pass this link "
                    "safely to {email}; it works once and is not shown again:"),
    "invite_bad_email": ("Dat is geen e-mailadres. Er is niets verstuurd.",
                         "That is not an e-mail address. Nothing was sent."),
    "admins_link": ("Beheerders van deze school", "Admins of this school"),
    # setting a password (invitation, reset)
    "accept_title": ("Welkom bij Loper-beheer", "Welcome to Loper admin"),
    "accept_intro": ("U bent uitgenodigd om {school} te beheren, als {email}. Kies een "
                     "wachtwoord om uw account te maken.", "You have been invited to manage "
                     "{school}, as {email}. Choose a password to create your account."),
    "reset_set_title": ("Nieuw wachtwoord", "New password"),
    "reset_set_intro": ("Kies een nieuw wachtwoord voor {email}. Daarna bent u overal "
                        "uitgelogd en logt u opnieuw in.", "Choose a new password for {email}. "
                        "You are then logged out everywhere and log in again."),
    "new_password": ("Nieuw wachtwoord", "New password"),
    "password_again": ("Hetzelfde wachtwoord nog eens", "The same password again"),
    "password_rule": ("minstens {n} tekens; een zin van een paar woorden is sterk en goed te "
                      "onthouden", "at least {n} characters; a sentence of a few words is "
                      "strong and easy to remember"),
    "password_short": ("Het wachtwoord is te kort: minstens {n} tekens. Er is niets opgeslagen.",
                       "The password is too short: at least {n} characters. Nothing was "
                       "saved."),
    "password_long": ("Het wachtwoord is te lang. Er is niets opgeslagen.",
                      "The password is too long. Nothing was saved."),
    "password_mismatch": ("De twee wachtwoorden zijn niet gelijk. Er is niets opgeslagen.",
                          "The two passwords differ. Nothing was saved."),
    "create_account": ("Account maken", "Create the account"),
    "set_password": ("Wachtwoord opslaan", "Save the password"),
    "welcome": ("Uw account is gemaakt. Zet nu de tweede stap bij inloggen aan.",
                "Your account has been created. Now turn on the second login step."),
    "password_changed": ("Uw wachtwoord is gewijzigd en al uw sessies zijn beëindigd. Log "
                         "opnieuw in.", "Your password has been changed and all your sessions "
                         "have ended. Log in again."),
    # requesting a reset
    "forgot": ("Wachtwoord vergeten?", "Forgot your password?"),
    "reset_title": ("Wachtwoord opnieuw instellen", "Reset your password"),
    "reset_intro": ("Vul het e-mailadres van uw beheerdersaccount in. U krijgt een link die "
                    "{minutes} minuten geldig is.", "Enter the e-mail address of your admin "
                    "account. You will get a link that is valid for {minutes} minutes."),
    "reset_button": ("Link versturen", "Send the link"),
    "reset_sent": ("Als er een beheerdersaccount met dit adres bestaat, is er nu een e-mail "
                   "met een link onderweg. Niets ontvangen? Kijk in uw spam-map of vraag het "
                   "de federatiebeheerder.", "If an admin account with this address exists, an "
                   "e-mail with a link is on its way. Nothing arrived? Look in your spam "
                   "folder, or ask the federation operator."),
    "reset_no_mail": ("Loper verstuurt hier geen e-mail. Vraag de federatiebeheerder om een "
                      "nieuw wachtwoord (broker admin password).", "Loper sends no e-mail "
                      "here. Ask the federation operator for a new password (broker admin "
                      "password)."),
    "back_to_login": ("Terug naar inloggen", "Back to log in"),
    # TOTP with a QR code, recovery codes
    "totp_qr": ("Scan deze QR-code met uw authenticator-app, of typ de sleutel hieronder "
                "over. Hij wordt maar één keer getoond.", "Scan this QR code with your "
                "authenticator app, or type in the key below. It is shown only once."),
    "totp_qr_title": ("QR-code voor uw authenticator-app", "QR code for your authenticator app"),
    "totp_key": ("Sleutel", "Key"),
    "code_or_recovery": ("Of een herstelcode, als u uw telefoon kwijt bent.",
                         "Or a recovery code, if you lost your phone."),
    "recovery_title": ("Herstelcodes", "Recovery codes"),
    "recovery_once": ("Bewaar deze codes op een veilige plek (afdrukken, of in een "
                      "wachtwoordkluis). Elke code werkt één keer in plaats van de code uit uw "
                      "app. Ze worden maar één keer getoond.", "Keep these codes somewhere safe "
                      "(print them, or in a password manager). Each code works once instead of "
                      "the code from your app. They are shown only once."),
    "recovery_saved": ("Ik heb ze bewaard", "I have saved them"),
    "recovery_left": ("Nog {n} herstelcodes over.", "{n} recovery codes left."),
    "recovery_new": ("Nieuwe herstelcodes maken (de oude vervallen)",
                     "Make new recovery codes (the old ones stop working)"),
    "recovery_used": ("U bent ingelogd met een herstelcode; er zijn er nog {n}. Maak nieuwe "
                      "codes als u er weinig over hebt.", "You logged in with a recovery code; "
                      "{n} are left. Make new codes when you are running low."),
    "code_for_new_codes": ("Code uit uw app", "Code from your app"),
    "error_id": ("foutcode", "error id"),
}

INVITE_SUBJECT = "Uitnodiging voor Loper-beheer / Invitation to Loper admin"
INVITE_BODY = """\
{by} nodigt u uit om {school} te beheren in Loper.
Kies met deze link een wachtwoord; de link werkt één keer en is geldig tot {until} (UTC):

{link}

Verwachtte u dit niet? Dan kunt u deze e-mail negeren.

---

{by} invites you to manage {school} in Loper.
Choose a password with this link; it works once and is valid until {until} (UTC):

{link}

Not expecting this? Then you can ignore this e-mail.
"""

RESET_SUBJECT = "Nieuw wachtwoord voor Loper-beheer / New password for Loper admin"
RESET_BODY = """\
Iemand vroeg een nieuw wachtwoord aan voor uw Loper-beheerdersaccount ({email}).
Kies het met deze link; hij werkt één keer en is geldig tot {until} (UTC):

{link}

Vroeg u dit niet aan? Negeer deze e-mail: uw wachtwoord blijft hetzelfde.

---

Someone asked for a new password for your Loper admin account ({email}).
Choose it with this link; it works once and is valid until {until} (UTC):

{link}

Did not ask for this? Ignore this e-mail: your password stays the same.
"""
