"""A person's sessions on every surface, through their linked identities.

Sessions name their starter as an identity (`bot.sessions.starters.starter_of`: `slack:
T1/U1`, `github:alice`, `web:<account>`, `operator:local`), spelt as `Identity` spells a
linked account. Both directions are matched when a list is read, never copied when a
session is made: a person's identities give the sessions they started (`starters_of`), and
a session's starter gives the person, whose display name the list shows (`names_of`). So an
account linked today brings yesterday's Slack sessions along, and unlinking takes them off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bot.identity.accounts import AccountStore
from bot.identity.people import Identity, IdentityKind
from bot.sessions.listing import Filters, Seeker, SessionPage, list_sessions
from bot.sessions.starters import WEB_PREFIX


async def starters_of(accounts: AccountStore, person_id: str) -> frozenset[str]:
    """Every identity the person starts sessions as: their web account and each link."""
    linked = await accounts.identities(person_id)
    return frozenset({f"{WEB_PREFIX}{person_id}", *(starter(i) for i in linked)})


def starter(identity: Identity) -> str:
    return f"{identity.kind.value}:{identity.value}"


def identity_of(starter_id: str) -> Identity | None:
    """The linked-account identity a starter names; None for a web account or a kind
    no account links (`bot.sessions.starters` names those by their surface)."""
    kind, _, value = starter_id.partition(":")
    try:
        return Identity(IdentityKind(kind), value)
    except ValueError:
        return None


async def names_of(accounts: AccountStore, starters: Iterable[str]) -> dict[str, str]:
    """The display names of the people behind these starters, for those linked."""
    wanted = set(starters)
    names: dict[str, str] = {}
    for web in sorted(s for s in wanted if s.startswith(WEB_PREFIX)):
        person = await accounts.person(web.removeprefix(WEB_PREFIX))
        if person is not None:
            names[web] = person.display_name
    by_identity = {i: s for s in wanted if (i := identity_of(s)) is not None}
    for identity, person in (await accounts.people_of(by_identity)).items():
        names[by_identity[identity]] = person.display_name
    return names


async def list_for(
    accounts: AccountStore, person_id: str, admin: bool, filters: Filters
) -> SessionPage:
    """`list_sessions` for a signed-in person, with each row's "who" the starter's own
    display name where the starter is linked to an account."""
    seeker = Seeker(await starters_of(accounts, person_id), admin)
    found = await list_sessions(accounts.redis, seeker, filters)
    names = await names_of(accounts, {row.starter for row in found.rows})
    rows = tuple(replace(row, who=names.get(row.starter, row.who)) for row in found.rows)
    return replace(found, rows=rows)
