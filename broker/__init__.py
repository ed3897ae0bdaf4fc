"""Loper: a federated single sign-on broker for schools."""
