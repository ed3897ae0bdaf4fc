"""SAML plumbing shared by the two SAML adapters (upstream/saml.py, downstream/saml_idp.py)."""
