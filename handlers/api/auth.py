"""Who is calling: a personal API token in `Authorization: Bearer`, and nothing else.

No cookie authenticates the API, so a browser cannot be made to call it for someone (and
it needs no CSRF token). A token acts as its person: their rights (admin or not), their
linked identities (which sessions are theirs) and their linked forge accounts, under the
same acting rule as chat (`bot.identity.acting`). Each token has its own rate limit, a fixed
window of one minute in Redis, answered with 429 and `Retry-After`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.identity.accounts import AccountStore
from bot.identity.api_tokens import ApiToken, ApiTokens, Scope
from bot.identity.linked import starters_of
from bot.identity.people import Person as Account
from bot.sessions.origin import ApiOrigin
from bot.sessions.session import Person, Session
from bot.sessions.starters import starter_of
from handlers.api.problems import ApiProblem

WINDOW = 60  # seconds of one rate-limit window
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="repobox"'}


@dataclass(frozen=True)
class Caller:
    """The person a token acts as, and the token (its id names it in prompts' origins)."""

    account: Account
    admin: bool
    starters: frozenset[str]
    token: ApiToken

    @property
    def person(self) -> Person:
        """As sessions and prompts name them: the web account, as on the dashboard."""
        return Person(f"web:{self.account.id}", self.account.display_name)

    @property
    def origin(self) -> ApiOrigin:
        return ApiOrigin(self.person.id, self.token.id)

    def may_see(self, found: Session) -> bool:
        thread = found.thread
        return self.admin or starter_of(thread.surface, thread.key, found.created_by.id) in (
            self.starters | {self.person.id}
        )

    def require(self, scope: Scope) -> None:
        if not self.token.allows(scope):
            raise ApiProblem(
                403,
                "insufficient-scope",
                "Insufficient scope",
                f"This token may not do this: it needs the `{scope.value}` scope.",
                headers={"WWW-Authenticate": f'Bearer realm="repobox", scope="{scope.value}"'},
            )


def _unauthenticated(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthenticated", "Unauthenticated", detail, headers=CHALLENGE)


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthenticated(
            "Send a personal API token as `Authorization: Bearer rbx_…` (Settings → API tokens)."
        )
    return value.strip()


async def caller_of(request: web.Request, accounts: AccountStore, tokens: ApiTokens) -> Caller:
    found = await tokens.authenticate(bearer(request))
    if found is None:
        raise _unauthenticated("This token is not valid: unknown, revoked or expired.")
    account = await accounts.person(found.person_id)
    if account is None:
        raise _unauthenticated("This token's account no longer exists.")
    admin = await accounts.is_admin(account.id)
    return Caller(account, admin, await starters_of(accounts, account.id), found)


async def limit(redis: AsyncRedis, caller: Caller, per_minute: int) -> dict[str, str]:
    """Count this request against the token's minute; 429 beyond the limit. Returns the
    `RateLimit-*` headers to answer with."""
    now = time.time()
    window = int(now // WINDOW)
    key = keys.api_rate(caller.token.id, window)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, WINDOW * 2)
        count, _ = await pipe.execute()
    reset = max(1, int((window + 1) * WINDOW - now + 0.999))
    left = max(0, per_minute - int(count))
    headers = {"RateLimit-Limit": str(per_minute), "RateLimit-Remaining": str(left)}
    if int(count) > per_minute:
        raise ApiProblem(
            429,
            "rate-limited",
            "Too many requests",
            f"This token made more than {per_minute} requests this minute; try again in {reset} s.",
            headers={**headers, "Retry-After": str(reset)},
        )
    return headers
