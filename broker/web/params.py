"""Request parameters that must come once: every protocol endpoint refuses a repeated one.

A parameter sent twice (in the query, in the form, or once in each) is ambiguous: two parts
of Loper could read different values. The OIDC endpoints hand the repeated names to the
protocol core, which answers with its own error; the SAML endpoints refuse with Loper's page.
"""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from broker.errors import BadRequest


def single(*sources: MultiDict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The parameters (the first value of each, the first source first) and the names sent
    more than once, counted over all sources together (a query string and a form body)."""
    params: dict[str, str] = {}
    repeated: list[str] = []
    for source in sources:
        for name, values in source.lists():
            if (name in params or len(values) > 1) and name not in repeated:
                repeated.append(name)
            params.setdefault(name, values[0])
    return params, repeated


def refuse_repeated(*sources: MultiDict[str, str]) -> dict[str, str]:
    """The parameters, or BadRequest naming the first one that was sent more than once."""
    params, repeated = single(*sources)
    if repeated:
        raise BadRequest(f"The parameter {repeated[0]} was sent more than once; a request "
                         "carries each parameter once.")
    return params
