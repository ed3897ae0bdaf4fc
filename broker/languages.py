"""The languages Loper speaks, in the order it prefers them: its pages, its published
metadata, and the texts others may write per language (a supplier's reasons)."""

LANGUAGES = ("nl", "en")
