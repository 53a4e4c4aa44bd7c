"""The store of people and their linked accounts (the values are `bot.identity.people`):
who someone is on Slack, GitHub and GitLab, and the provider tokens Repobox may act with on
their behalf.

Tokens are stored sealed (bot/security/credentials.py) with the person's id and the
provider as associated data; what pages and logs show is the masked form
(`glpat-****abcd`) kept beside it, so listing someone's connections never decrypts.
An identity belongs to one person at most: linking a GitHub login someone else holds
is refused rather than silently moved.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import TypeVar

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.config import Settings
from bot.core.errors import Conflict, NotFound
from bot.core.redisio import maybe_str, run_async, str_fields
from bot.identity.people import (
    Connection,
    Credential,
    Identity,
    IdentityKind,
    Person,
    Provider,
)
from bot.security.credentials import CredentialError, Vault, keyring

# The values moved to bot.identity.people; callers still import them from here.
T = TypeVar("T")


@dataclass(frozen=True)
class RotationReport:
    resealed: int
    current: int
    failed: tuple[str, ...]  # "person/provider" of blobs no known key opens


class AccountStore:
    """People, their identities and their sealed provider tokens, in Redis.

    One implementation, on `redis.asyncio`: the web process awaits it on the shared client
    (`WebContext.aredis`); code off the loop (jobs, the CLI) runs the same coroutines with
    `blocking(settings, redis, lambda accounts: accounts.credential(…))`."""

    def __init__(self, settings: Settings, redis: AsyncRedis, vault: Vault) -> None:
        self.settings = settings
        self.redis = redis
        self.vault = vault

    # -- people -------------------------------------------------------------------------
    async def create_person(self, display_name: str) -> Person:
        found = Person(uuid.uuid4().hex[:16], display_name.strip() or "someone", time.time())
        async with self.redis.pipeline() as pipe:
            pipe.hset(keys.person(found.id), mapping={"json": json.dumps(found.to_dict())})
            pipe.sadd(keys.people(), found.id)
            await pipe.execute()
        return found

    async def person(self, person_id: str) -> Person | None:
        raw = maybe_str(await self.redis.hget(keys.person(person_id), "json"))
        return Person.from_dict(json.loads(raw)) if raw else None

    async def require(self, person_id: str) -> Person:
        found = await self.person(person_id)
        if found is None:
            raise NotFound("That account does not exist (any more).")
        return found

    async def find(self, identity: Identity) -> Person | None:
        key = keys.identity(identity.kind.value, identity.value)
        person_id = maybe_str(await self.redis.get(key))
        return await self.person(person_id) if person_id else None

    async def person_for(self, identity: Identity, display_name: str) -> Person:
        """The person holding `identity`, created (and linked) on first sight."""
        found = await self.find(identity)
        if found is not None:
            return found
        created = await self.create_person(display_name)
        try:
            await self.link_identity(created.id, identity)
        except Conflict:  # a racing first sight linked it first: keep that person
            await self._forget(created.id)
            winner = await self.find(identity)
            if winner is None:
                raise
            return winner
        return created

    async def _forget(self, person_id: str) -> None:
        async with self.redis.pipeline() as pipe:
            pipe.delete(keys.person(person_id), keys.person_identities(person_id))
            pipe.srem(keys.people(), person_id)
            await pipe.execute()

    async def people_of(self, identities: Iterable[Identity]) -> dict[Identity, Person]:
        """The people holding these identities (the unlinked ones left out), in two round
        trips however many there are: a list's "who" column."""
        wanted = list(dict.fromkeys(identities))
        async with self.redis.pipeline(transaction=False) as pipe:
            for identity in wanted:
                pipe.get(keys.identity(identity.kind.value, identity.value))
            ids = [maybe_str(found) for found in await pipe.execute()] if wanted else []
        held = [(i, p) for i, p in zip(wanted, ids, strict=True) if p]
        if not held:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for _, person_id in held:
                pipe.hget(keys.person(person_id), "json")
            raw = [maybe_str(found) for found in await pipe.execute()]
        return {
            identity: Person.from_dict(json.loads(data))
            for (identity, _), data in zip(held, raw, strict=True)
            if data
        }

    async def is_admin(self, person_id: str) -> bool:
        mine = await self.identities(person_id)
        if any(i.kind is IdentityKind.OPERATOR for i in mine):
            return True
        return any(i.matches(entry) for i in mine for entry in self.settings.admins)

    # -- identities ---------------------------------------------------------------------
    async def link_identity(self, person_id: str, identity: Identity) -> None:
        await self.require(person_id)
        key = keys.identity(identity.kind.value, identity.value)
        if not await self.redis.set(key, person_id, nx=True) and (
            maybe_str(await self.redis.get(key)) != person_id
        ):
            raise Conflict(
                f"That {identity.kind.value} account is already linked to another person.",
                hint="Unlink it there first.",
            )
        mine = keys.person_identities(person_id)
        previous = maybe_str(await self.redis.hget(mine, identity.kind.value))
        if previous and previous != identity.value:
            await self.redis.delete(keys.identity(identity.kind.value, previous))
        await self.redis.hset(mine, identity.kind.value, identity.value)

    async def identities(self, person_id: str) -> list[Identity]:
        raw = str_fields(await self.redis.hgetall(keys.person_identities(person_id)))
        return [Identity(IdentityKind(kind), value) for kind, value in sorted(raw.items())]

    async def unlink_identity(self, person_id: str, kind: IdentityKind) -> None:
        value = maybe_str(await self.redis.hget(keys.person_identities(person_id), kind.value))
        if not value:
            return
        key = keys.identity(kind.value, value)
        if maybe_str(await self.redis.get(key)) == person_id:
            await self.redis.delete(key)
        await self.redis.hdel(keys.person_identities(person_id), kind.value)

    # -- credentials --------------------------------------------------------------------
    async def save_credential(self, person_id: str, credential: Credential) -> Connection:
        """Seal and store a token, linking the forge login it belongs to."""
        await self.link_identity(person_id, Identity.forge(credential.provider, credential.login))
        connection = Connection(
            provider=credential.provider,
            login=credential.login,
            masked=credential.masked,
            scopes=credential.scopes,
            source=credential.source,
            linked_at=time.time(),
            sealed=self.vault.seal(
                credential.token, owner=person_id, provider=credential.provider.value
            ),
        )
        await self.redis.hset(
            keys.credentials(person_id),
            credential.provider.value,
            json.dumps(connection.to_dict()),
        )
        await self.redis.hdel(keys.broken_links(), f"{person_id}/{credential.provider.value}")
        return connection

    async def connections(self, person_id: str) -> list[Connection]:
        raw = str_fields(await self.redis.hgetall(keys.credentials(person_id)))
        return [Connection.from_dict(json.loads(raw[name])) for name in sorted(raw)]

    async def connection(self, person_id: str, provider: Provider) -> Connection | None:
        raw = maybe_str(await self.redis.hget(keys.credentials(person_id), provider.value))
        return Connection.from_dict(json.loads(raw)) if raw else None

    async def credential(self, person_id: str, provider: Provider) -> Credential | None:
        """The token in the clear, for acting as the person; `CredentialError` if it no
        longer opens (then the person links again)."""
        found = await self.connection(person_id, provider)
        if found is None:
            return None
        token = self.vault.open(found.sealed, owner=person_id, provider=provider.value)
        return Credential(provider, token, found.login, found.scopes, found.source)

    async def unlink(self, person_id: str, provider: Provider) -> bool:
        """Forget the token and the forge identity; False if there was nothing to unlink."""
        removed = bool(await self.redis.hdel(keys.credentials(person_id), provider.value))
        await self.redis.hdel(keys.broken_links(), f"{person_id}/{provider.value}")
        await self.unlink_identity(person_id, IdentityKind(provider.value))
        return removed

    async def rotate(self) -> RotationReport:
        """Re-seal every token under the current key (after REPOBOX_SECRET_KEY changed)."""
        resealed = current = 0
        failed: list[str] = []
        members = await self.redis.smembers(keys.people())
        for person_id in sorted(str(maybe_str(m)) for m in members):
            for found in await self.connections(person_id):
                if self.vault.is_current(found.sealed):
                    current += 1
                    continue
                owner, provider = person_id, found.provider.value
                try:
                    sealed = self.vault.reseal(found.sealed, owner=owner, provider=provider)
                except CredentialError:
                    failed.append(f"{person_id}/{provider}")
                    continue
                fresh = replace(found, sealed=sealed)
                await self.redis.hset(
                    keys.credentials(person_id), provider, json.dumps(fresh.to_dict())
                )
                resealed += 1
        return RotationReport(resealed, current, tuple(failed))


def accounts_on(settings: Settings, redis: AsyncRedis) -> AccountStore:
    """The store on an async client, with the vault of the configured keys."""
    return AccountStore(settings, redis, Vault(keyring(settings)))


def blocking(
    settings: Settings, redis: Redis, operation: Callable[[AccountStore], Awaitable[T]]
) -> T:
    """`operation(accounts)` awaited to the end, for code off the event loop (RQ jobs, the
    CLI, tests): the same coroutines on a short-lived async client (`run_async`)."""
    vault = Vault(keyring(settings))
    return run_async(redis, lambda aredis: operation(AccountStore(settings, aredis, vault)))
