"""Connecting to Redis: the configured server, or the embedded Valkey a running Repobox
recorded in the data dir."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis import Redis
from redis import connection as sync_connection
from redis.asyncio import connection as async_connection
from redis.exceptions import RedisError

from bot.core.config import Settings
from bot.core.errors import UserError

ADDRESS_FILE = "redis.url"
PID_FILE = "app.pid"  # written by `python app.py` (the supervisor) while it runs
SOCKET_TIMEOUT = 30.0  # seconds a client waits for an answer before it gives up on the server
T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
Hash = Mapping[bytes | str, bytes | str]  # HGETALL's answer, as redis-py types it


def as_str(value: object) -> str:
    """Redis answers bytes (RQ needs that); our own values are UTF-8 text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def maybe_str(value: object) -> str | None:
    """`as_str` for a value Redis may not have (GET, HGET): None stays None."""
    return None if value is None else as_str(value)


def str_fields(raw: Mapping[K, V]) -> dict[str, str]:
    """A hash or a stream entry as Redis answers it (bytes), as text: the one place the
    stores decode field maps (the clients stay bytes for RQ)."""
    return {as_str(name): as_str(value) for name, value in raw.items()}


def connect(url: str) -> Redis:
    """A client for `url` whose socket timeout outlasts every blocking command sent on it.

    redis-py's default (5 s) would cut a longer blocking wait (RQ's wait for a job, the
    run lease's BLPOP) into a "Timeout reading from socket" error, and RQ backs off for up
    to a minute after one. Blocking commands wait at most `blocking_limit(client)`. A
    `?socket_timeout=` in the URL takes precedence (redis-py reads it), e.g. in tests.
    """
    return Redis.from_url(
        url,
        socket_connect_timeout=5,
        socket_timeout=SOCKET_TIMEOUT,
        health_check_interval=30,
    )


def read_timeout(client: Redis) -> float:
    """How long `client` waits for any answer before it gives up on the server."""
    given = client.connection_pool.connection_kwargs.get("socket_timeout")
    return float(given) if isinstance(given, int | float) else SOCKET_TIMEOUT


def blocking_limit(client: Redis) -> int:
    """The longest a blocking command on `client` may wait, in whole seconds (RQ's and
    BLPOP's unit): half its socket timeout, so the answer arrives well inside it even on a
    loaded machine."""
    return max(1, int(read_timeout(client) / 2))


def recorded_address(data_dir: Path) -> str | None:
    """The address a running Repobox wrote for its embedded server, if any."""
    path = data_dir / ADDRESS_FILE
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def supervisor_alive(data_dir: Path) -> bool:
    """Whether a `python app.py` that owns this data dir is running."""
    try:
        pid = int((data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"app.py" in cmdline


def is_alive(url: str) -> bool:
    try:
        return bool(connect(url).ping())
    except (RedisError, OSError, ValueError):
        return False


def locate(settings: Settings) -> str:
    """The Redis a client process (CLI, worker) should use, or an error saying how to start one."""
    if settings.redis_url:
        return settings.redis_url
    recorded = recorded_address(settings.data_dir)
    if recorded and (is_alive(recorded) or supervisor_alive(settings.data_dir)):
        return recorded  # a database being restarted is said so by the caller's probe
    raise UserError(
        f"Repobox is not running for data dir {settings.data_dir}.",
        hint="Start it with `./dev run`, or set REDIS_URL.",
    )


_KEPT = ("host", "port", "path", "db", "username", "password", "socket_connect_timeout")


def async_client(
    client: Redis, *, socket_timeout: float | None = 5.0, shared: int | None = 64
) -> aioredis.Redis:
    """An asyncio client for the same server as `client` (TCP, TLS or a unix socket): the
    web process's calls on its event loop use it, so no request waits on another's I/O.

    `shared`: at most that many connections, and a request waits its turn for one (the
    plain asyncio pool fails with "Too many connections" under a burst instead); None for a
    pool of one long-held connection per user (the event stream's blocking reads)."""
    pool = client.connection_pool
    given = pool.connection_kwargs
    kwargs: dict[str, Any] = {k: given[k] for k in _KEPT if k in given}
    connection_class: type[async_connection.AbstractConnection] = async_connection.Connection
    if issubclass(pool.connection_class, sync_connection.UnixDomainSocketConnection):
        connection_class = async_connection.UnixDomainSocketConnection
    elif issubclass(pool.connection_class, sync_connection.SSLConnection):
        connection_class = async_connection.SSLConnection
        kwargs.update({k: v for k, v in given.items() if k.startswith("ssl_")})
    kwargs["socket_timeout"] = socket_timeout
    if shared is None:
        pool_async = aioredis.ConnectionPool(connection_class=connection_class, **kwargs)
    else:
        pool_async = aioredis.BlockingConnectionPool(
            connection_class=connection_class, max_connections=shared, timeout=10, **kwargs
        )
    return aioredis.Redis(connection_pool=pool_async)


def run_async(client: Redis, operation: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
    """`operation(aredis)` awaited to the end, for code off the event loop (RQ jobs, the
    CLI, tests): the one async implementation runs on a short-lived client for `client`'s
    server, one connection, closed afterwards.

    Never call this from the web process's loop, which awaits the operation itself. A
    thread that runs some other loop already (a sync API built on one, such as
    Playwright's in the browser tests) gets the operation on a thread of its own."""

    async def once() -> T:
        aredis = async_client(client, shared=None)
        try:
            return await operation(aredis)
        finally:
            await aredis.aclose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(once())
    with ThreadPoolExecutor(1, thread_name_prefix="run-async") as pool:
        return pool.submit(asyncio.run, once()).result()
