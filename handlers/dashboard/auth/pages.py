"""The sign-in and settings pages, on the shared layout; every value escaped by the
templates, every form with the session's CSRF token, tokens only ever masked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aiohttp import web

from bot.identity.api_tokens import ApiToken
from bot.identity.oauth import OAuthApp
from bot.identity.people import Connection, Identity, Person, Provider
from handlers.dashboard.html import HEADERS, page
from handlers.dashboard.viewer import Viewer

TITLES = {Provider.GITHUB: "GitHub", Provider.GITLAB: "GitLab"}


def signin(
    apps: Iterable[OAuthApp], csrf: str, message: str | None, oidc: str | None = None
) -> web.Response:
    """`oidc`: the OpenID Connect provider's name on its button, when one is configured."""
    return page(
        "signin.html", headers=HEADERS, apps=list(apps), csrf=csrf, message=message, oidc=oidc
    )


def settings(
    person: Person,
    admin: bool,
    identities: list[Identity],
    connections: list[Connection],
    broken: Mapping[str, str],  # provider -> why its link was found broken when used
    apps: Iterable[OAuthApp],
    csrf: str,
    message: str | None,
    tokens: list[ApiToken] | None = None,
    new_token: str | None = None,
) -> web.Response:
    """`new_token`: a token just made, shown this once (the page is never cached)."""
    linked = {c.provider for c in connections}
    return page(
        "settings.html",
        headers=HEADERS,
        viewer=Viewer(person, admin),
        identities=identities,
        connections=connections,
        broken=broken,
        to_link=[a for a in apps if a.provider not in linked],
        providers=[(p.value, TITLES[p]) for p in Provider],
        titles={p.value: t for p, t in TITLES.items()},
        csrf=csrf,
        message=message,
        tokens=tokens or [],
        new_token=new_token,
        expiries=EXPIRIES,
    )


EXPIRIES = ((7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "a year"))
