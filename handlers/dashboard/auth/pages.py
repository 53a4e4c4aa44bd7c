"""The sign-in and settings pages: small server-rendered HTML, every value escaped.

Every form carries the session's CSRF token; tokens appear only masked.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable

from aiohttp import web

from bot.identity.oauth import OAuthApp
from bot.identity.people import Connection, Identity, Person, Provider

HEADERS = {
    "Cache-Control": "no-store",
    # same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with a
    # form's POST, which the CSRF middleware's origin check refuses; other sites get nothing.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # No form-action: signing in posts to us and is redirected on to GitHub/GitLab,
    # which Chromium checks against form-action too.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "base-uri 'none'; frame-ancestors 'none'",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem;"
    "border-bottom:1px solid #ddd}form.inline{display:inline}.notice{background:#eef6ff;"
    "padding:.6rem;border-radius:4px}code{background:#f4f4f4;padding:0 .2rem}"
)
TITLES = {Provider.GITHUB: "GitHub", Provider.GITLAB: "GitLab"}


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, status: int = 200) -> web.Response:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)} · '
        f"Repobox</title><style>{STYLE}</style></head><body><h1>{e(title)}</h1>{body}"
        "</body></html>"
    )
    return web.Response(text=document, content_type="text/html", status=status, headers=HEADERS)


def form(action: str, csrf: str, button: str, fields: str = "", css: str = "inline") -> str:
    return (
        f'<form class="{css}" method="post" action="{e(action)}">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}">{fields}'
        f"<button>{e(button)}</button></form>"
    )


def notice(text: str | None) -> str:
    return f'<p class="notice" role="status">{e(text)}</p>' if text else ""


def signin(apps: Iterable[OAuthApp], csrf: str, message: str | None) -> web.Response:
    buttons = "".join(
        f"<p>{form(f'/account/signin/{app.provider.value}', csrf, f'Sign in with {app.title}')}</p>"
        for app in apps
    )
    if not buttons:
        buttons = (
            "<p>No sign-in with GitHub or GitLab is configured. Run <code>./dev login"
            "</code> on the machine for a one-time sign-in link (it works once, for ten "
            "minutes), or set "
            "<code>GITHUB_CLIENT_ID</code>/<code>GITHUB_CLIENT_SECRET</code> or "
            "<code>GITLAB_CLIENT_ID</code>/<code>GITLAB_CLIENT_SECRET</code>.</p>"
        )
    return page("Sign in", notice(message) + buttons)


def _connection_row(found: Connection, csrf: str) -> str:
    name = found.provider.value
    since = time.strftime("%Y-%m-%d", time.gmtime(found.linked_at))
    actions = (
        form(f"/account/settings/test/{name}", csrf, "Test")
        + " "
        + form(f"/account/settings/unlink/{name}", csrf, "Unlink")
    )
    return (
        f"<tr><td>{e(TITLES[found.provider])}</td><td>{e(found.login)}</td>"
        f"<td><code>{e(found.masked)}</code></td><td>{e(', '.join(found.scopes) or '-')}</td>"
        f"<td>{e(found.source.value)}, {e(since)}</td><td>{actions}</td></tr>"
    )


def settings(
    person: Person,
    admin: bool,
    identities: list[Identity],
    connections: list[Connection],
    apps: Iterable[OAuthApp],
    csrf: str,
    message: str | None,
) -> web.Response:
    rows = "".join(_connection_row(c, csrf) for c in connections) or (
        '<tr><td colspan="6">No accounts linked yet.</td></tr>'
    )
    linked = {c.provider for c in connections}
    oauth = "".join(
        form(f"/account/settings/oauth/{a.provider.value}", csrf, f"Link {a.title}")
        for a in apps
        if a.provider not in linked
    )
    choices = "".join(f'<option value="{p.value}">{TITLES[p]}</option>' for p in Provider)
    paste = form(
        "/account/settings/token",
        csrf,
        "Save token",
        f'<label>Host <select name="provider">{choices}</select></label> '
        '<label>Personal access token <input type="password" name="token" '
        'autocomplete="off" required></label> ',
        css="paste",
    )
    who = ", ".join(f"{i.kind.value}: {i.value}" for i in identities) or "none"
    body = (
        '<p><a href="/dashboard/">Sessions</a></p>'
        + notice(message)
        + f"<p>Signed in as <strong>{e(person.display_name)}</strong>"
        + (" (admin)" if admin else "")
        + f". Linked identities: {e(who)}.</p>"
        + "<h2>Connections</h2><table><thead><tr><th>Host</th><th>Account</th><th>Token</th>"
        + f"<th>Scopes</th><th>Linked</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
        + (f"<p>{oauth}</p>" if oauth else "")
        + f"<h2>Paste a token</h2>{paste}"
        + "<p>Repobox stores tokens encrypted and only ever shows them masked.</p>"
        + form("/account/signout", csrf, "Sign out")
    )
    return page("Settings", body)
