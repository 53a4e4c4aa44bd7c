"""The account store from synchronous test code: each call runs the store's coroutine to the
end on a short-lived async client (`bot.core.redisio.run_async`, as the jobs and the CLI do), so
tests read like the sync store they used to drive, and exercise the one implementation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis

from bot.core.config import Settings
from bot.core.redisio import run_async
from bot.identity.accounts import AccountStore
from bot.security.credentials import Vault, keyring


class SyncAccounts:
    def __init__(self, settings: Settings, redis: Redis, vault: Vault | None = None) -> None:
        self._settings = settings
        self._redis = redis
        self._vault = vault or Vault(keyring(settings))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            def operation(aredis: Any) -> Any:
                store = AccountStore(self._settings, aredis, self._vault)
                return getattr(store, name)(*args, **kwargs)

            return run_async(self._redis, operation)

        return call
