"""Templates fail loudly on a name nobody passed.

Jinja's default lets a page print nothing for, and loop over nothing in, a name its view
forgot to pass: a form then silently lacks its fields. Here such a name may still be tested
(`{% if error %}`: the pages lean on that for what is optional), but printing it, looping
over it or taking its length raises, so a test that renders the page fails.
"""

from __future__ import annotations

from flask import Flask
from jinja2 import Undefined


class Unpassed(Undefined):
    """A name no view passed: false when tested, an error when printed or looped over."""

    __slots__ = ()
    __iter__ = __str__ = __len__ = Undefined._fail_with_undefined_error


def init_app(app: Flask) -> None:
    app.jinja_env.undefined = Unpassed
