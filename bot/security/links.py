"""Signed, expiring links to a session's live page.

The signature is an HMAC-SHA256 over the session id and the expiry, keyed by
`REPOBOX_SECRET_KEY` (or a key generated once into the data dir when it is unset), so a
link cannot be forged, extended or moved to another session.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

from bot.config import Settings, decode_secret_key

KEY_FILE = "secret.key"
DEFAULT_TTL = 7 * 24 * 3600


def secret_key(settings: Settings) -> bytes:
    """The 32-byte key: from the setting (checked at start-up by `Settings.validate`), else
    from the data dir (created on first use). Read once per value: links are made per reply."""
    return _key(settings.secret_key or None, str(settings.data_dir))


@functools.lru_cache(maxsize=8)
def _key(configured: str | None, data_dir: str) -> bytes:
    if configured:
        return decode_secret_key(configured)
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def _signature(key: bytes, session_id: str, expires: int) -> str:
    message = f"session:{session_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def session_link(settings: Settings, session_id: str, ttl: float = DEFAULT_TTL) -> str:
    """The URL of the session's live page, valid for `ttl` seconds."""
    expires = int(time.time() + ttl)
    signature = _signature(secret_key(settings), session_id, expires)
    query = urlencode({"expires": expires, "sig": signature})
    return f"{settings.public_url}/sessions/{session_id}?{query}"


def verify(settings: Settings, session_id: str, expires: str | None, signature: str | None) -> bool:
    """True only for a valid, unexpired signature over this session id."""
    if not expires or not signature or not expires.isdigit():
        return False
    if int(expires) < time.time():
        return False
    expected = _signature(secret_key(settings), session_id, int(expires))
    return hmac.compare_digest(expected, signature)
