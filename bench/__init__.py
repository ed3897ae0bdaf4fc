"""Loper's benchmark (`make bench`, `python -m bench --help`): what a login costs the broker.

bench/saml_crypto.py is a separate micro-benchmark of the SAML signature backends.
"""
