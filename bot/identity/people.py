"""People and their linked accounts, as values: who someone is on Slack, GitHub and GitLab
(`Identity`), a provider token in the clear (`Credential`, memory only) and what is stored
and shown of it (`Connection`: the token sealed, and masked for pages and logs).

The store that keeps them in Redis is `bot.identity.accounts.AccountStore`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.redaction import Redactor, mask
from bot.core.stored import JsonObject, Text, dump, load


class Provider(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"


class IdentityKind(StrEnum):
    SLACK = "slack"
    GITHUB = "github"
    GITLAB = "gitlab"
    OPERATOR = "operator"  # whoever holds the machine: `python app.py login`
    OIDC = "oidc"  # the subject (`sub`) at the OpenID Connect provider (REPOBOX_OIDC_ISSUER)


class Source(StrEnum):
    OAUTH = "oauth"
    TOKEN = "token"  # noqa: S105 (a personal access token pasted in the settings page)


@dataclass(frozen=True)
class Identity:
    """One linked account. Slack's value is `TEAM/USER`; forge logins are lower-cased."""

    kind: IdentityKind
    value: str

    def __post_init__(self) -> None:
        if not self.value or any(c.isspace() for c in self.value):
            raise ValueError(f"not an identity: {self.value!r}")

    @classmethod
    def slack(cls, team: str, user: str) -> Identity:
        return cls(IdentityKind.SLACK, f"{team}/{user}")

    @classmethod
    def forge(cls, provider: Provider, login: str) -> Identity:
        return cls(IdentityKind(provider.value), login.lower())

    def matches(self, entry: str) -> bool:
        """Whether a REPOBOX_ADMINS entry names this identity (`github:alice`,
        `slack:U123` or `slack:T1/U123`; a bare name means a GitHub or GitLab login)."""
        kind, sep, name = entry.partition(":")
        if not sep:
            kind, name = "", kind
        if self.kind is IdentityKind.SLACK and kind == "slack":
            return name in {self.value, self.value.rsplit("/", 1)[-1]}
        if self.kind is IdentityKind.OIDC:
            return kind == "oidc" and name == self.value
        forge = self.kind in (IdentityKind.GITHUB, IdentityKind.GITLAB)
        if forge and kind in ("", self.kind.value):
            return name.lower() == self.value
        return False


@dataclass(frozen=True)
class Person:
    id: Text
    display_name: Text
    created_at: float

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Person:
        return load(cls, data)


@dataclass(frozen=True)
class Credential:
    """A provider token in the clear: only ever in memory, never in repr or logs."""

    provider: Provider
    token: str = field(repr=False)
    login: str
    scopes: tuple[str, ...] = ()
    source: Source = Source.TOKEN

    @property
    def masked(self) -> str:
        return masked(self.token)


@dataclass(frozen=True)
class Connection:
    """What a page shows of a credential: the masked token, never the token."""

    provider: Provider
    login: Text
    masked: Text
    linked_at: float
    sealed: Text = field(repr=False)
    scopes: tuple[str, ...] = ()
    source: Source = Source.TOKEN

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Connection:
        return load(cls, data)


def masked(token: str) -> str:
    """`glpat-****abcd`: a known token shape keeps its prefix, anything else shows `****`
    and its last four characters only when it is long enough to spare them."""
    shown = Redactor()(token)
    if shown != token:
        return shown
    return mask(token, "")
