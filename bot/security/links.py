"""Signed, expiring links to a session's live page.

The signature is an HMAC-SHA256 over the session id and the expiry, keyed by
`REPOBOX_SECRET_KEY` (or a key generated once into the data dir when it is unset), so a
link cannot be forged, extended or moved to another session.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from bot.core.config import Settings
from bot.security.credentials import KEY_FILE, keyring

__all__ = ["DEFAULT_TTL", "KEY_FILE", "secret_key", "session_link", "verify"]
DEFAULT_TTL = 7 * 24 * 3600


def secret_key(settings: Settings) -> bytes:
    """The 32-byte key: from the setting, else from the data dir (created on first use).

    Read once per process (bot/security/credentials.py keeps the key ring)."""
    return keyring(settings).current


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
