"""The admin portal: school admins activate suppliers and release attributes per supplier
(with a live preview), suspend suppliers, and read the release ledger and the audit trail;
supplier admins say what they ask for and why; the federation operator registers schools and
suppliers and watches health and key expiry.

    init_app(app)    called by app.create_app: flask-login and the `admin` blueprint
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from broker.admin import (  # noqa: F401  (routes)
        audit,
        auth,
        invitations,
        ledger,
        operator,
        operator_school,
        password_reset,
        privacy,
        school,
        supplier,
    )
    from broker.admin.base import ADMINS, LINKS, MAILER, RECOVERY_CODES, bp
    from broker.keys import seal_key
    from broker.mail import Mailer
    from broker.registry.admin_links import AdminLinks
    from broker.registry.admins import Admins
    from broker.registry.recovery_codes import RecoveryCodes
    from broker.sealed import Sealer
    from broker.web.current import BROKER

    broker = BROKER.of(app)
    accounts = ADMINS.put(app, Admins(broker.registry, Sealer(seal_key(broker.settings.keys_dir))))
    LINKS.put(app, AdminLinks(accounts))
    RECOVERY_CODES.put(app, RecoveryCodes(accounts))
    MAILER.put(app, Mailer(broker.settings))
    auth.init_app(app)
    app.register_blueprint(bp)
