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
        ledger,
        operator,
        operator_school,
        privacy,
        school,
        supplier,
    )
    from broker.admin.base import bp
    from broker.registry.admins import Admins

    app.extensions["loper_admins"] = Admins(app.extensions["loper"].registry)
    auth.login_manager.init_app(app)
    app.register_blueprint(bp)
