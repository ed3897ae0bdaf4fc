"""Loper's demo federation: small, real SAML peers built on real SAML libraries.

- `school_idp`: a pysaml2 IdP for the demo school "OBS De Regenboog" (upstream of Loper);
- `supplier_pysaml2`: the supplier "Rekenwonders", a pysaml2 SP (downstream of Loper);
- `supplier_onelogin`: the supplier "Taalapp", a python3-saml SP (downstream of Loper);
- `school_op`: an OpenID Provider for "Het Lyceum", and with a profile of `school_cloud` for
  "Het Kompas" (Google Workspace claim shapes) and "De Esdoorn" (Entra ID claim shapes);
- `federation`: the federation file that registers them with Loper.

Each peer is a Flask app factory. `make demo` serves them next to the broker; the broker's
end-to-end tests serve them on loopback ports (see tests/peers/servers.py).
"""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# pysaml2 7.5.5 touches cryptography's deprecated CFB mode once, when
# saml2.cryptography.symmetric is first imported. A package's __init__ runs before any of its
# modules, so importing it here, with exactly that warning silenced, keeps every demo import
# quiet under `filterwarnings = error`.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="CFB has been moved", category=CryptographyDeprecationWarning
    )
    import saml2.cryptography.symmetric  # noqa: F401
