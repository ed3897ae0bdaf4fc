from __future__ import annotations

import base64
import zlib

from tests.peers.browser import decode_saml, parse_forms

PAGE = """<html><body>
<form method="post" action="/sso/login">
 <input type="hidden" name="SAMLRequest" value="abc">
 <input type="radio" name="person" value="p1" checked><input type="radio" name="person" value="p2">
 <input type="password" name="password"><button>Log in</button>
</form>
<form method="post" action="https://sp.example/acs">
 <input type="hidden" name="SAMLResponse" value="xyz">
 <input type="hidden" name="RelayState" value="/">
 <button type="submit">Continue</button>
</form></body></html>"""


def test_parses_login_and_auto_post_forms() -> None:
    login, auto = parse_forms(PAGE, "http://idp.example/sso/redirect?x=1")

    assert login.action == "http://idp.example/sso/login"
    assert login.fields == {"SAMLRequest": "abc", "person": "p1", "password": ""}
    assert login.choices == {"person": ["p1", "p2"]}
    assert not login.is_saml_auto_post  # a person must fill it in

    assert auto.action == "https://sp.example/acs" and auto.method == "POST"
    assert auto.fields == {"SAMLResponse": "xyz", "RelayState": "/"}
    assert auto.is_saml_auto_post


def test_decodes_both_bindings() -> None:
    xml = "<samlp:AuthnRequest ID='x'/>"
    assert decode_saml(base64.b64encode(xml.encode()).decode()) == xml
    deflater = zlib.compressobj(wbits=-15)
    deflated = deflater.compress(xml.encode()) + deflater.flush()
    assert decode_saml(base64.b64encode(deflated).decode()) == xml
