"""Credentials at rest: AES-256-GCM under REPOBOX_SECRET_KEY, rotatable.

Each value is sealed with a random 12-byte nonce, and its blob names the key that sealed
it (`v1.<key id>.<nonce+ciphertext>`), so old blobs still open after the key changes:
REPOBOX_OLD_SECRET_KEYS lists the keys that may decrypt, only the current one encrypts.
The owner and the provider are bound as associated data, so a blob copied onto another
person's record, or from their GitLab slot to their GitHub one, fails to open.

Every purpose gets its own key derived with HKDF (credentials, cookies …), so the
AES keys are never the HMAC key that signs session links. The keys are read once per
process (`keyring`); start-up calls it, so a malformed key stops Repobox with a clear
message instead of failing on the first sign-in.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.core.config import Settings
from bot.core.errors import ConfigError, RepoboxError
from bot.core.secret_names import decode_secret_key

KEY_FILE = "secret.key"
VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32


class CredentialError(RepoboxError):
    """A sealed value cannot be opened: tampered with, moved to another owner, or sealed
    with a key Repobox no longer has. The message never holds the value."""


def key_id(key: bytes) -> str:
    """A short, stable name for a key that reveals nothing usable about it."""
    return hashlib.sha256(b"repobox-key-id\0" + key).hexdigest()[:8]


def _decode(name: str, value: str) -> bytes:
    return decode_secret_key(value, name)


def _generated_key(data_dir: Path) -> bytes:
    """The data dir's own key, created once with mode 0600 (the embedded default)."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
        try:
            os.link(temporary, path)  # atomic: two processes starting at once share one key
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{path} must hold 32 bytes; remove it to generate a new key")
    return key


@dataclass(frozen=True)
class KeyRing:
    """The current key (encrypts and signs) and the old ones (decrypt only)."""

    current: bytes = field(repr=False)
    old: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def by_id(self, kid: str) -> bytes | None:
        for key in (self.current, *self.old):
            if key_id(key) == kid:
                return key
        return None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key_id(key) for key in (self.current, *self.old))


def load_keyring(settings: Settings) -> KeyRing:
    """Read and validate the keys; `ConfigError` names the variable that is wrong."""
    if settings.secret_key:
        current = _decode("REPOBOX_SECRET_KEY", settings.secret_key)
    else:
        current = _generated_key(Path(settings.data_dir))
    old = tuple(_decode("REPOBOX_OLD_SECRET_KEYS", value) for value in settings.old_secret_keys)
    return KeyRing(current, tuple(key for key in old if key != current))


@functools.lru_cache(maxsize=32)
def _cached(secret_key: str | None, old: tuple[str, ...], data_dir: str) -> KeyRing:
    return load_keyring(
        Settings(secret_key=secret_key, old_secret_keys=old, data_dir=Path(data_dir))
    )


def keyring(settings: Settings) -> KeyRing:
    """The process's keys, read once (the first call generates the data dir's key if needed)."""
    return _cached(settings.secret_key, settings.old_secret_keys, str(settings.data_dir))


def _derive(key: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"repobox:{purpose}".encode()
    ).derive(key)


class Vault:
    """Seals and opens small secrets for one purpose ("credentials", "web-session" …)."""

    def __init__(self, keys: KeyRing, purpose: str = "credentials") -> None:
        self.keys = keys
        self.purpose = purpose
        self._ciphers: dict[str, AESGCM] = {}

    def _cipher(self, kid: str) -> AESGCM:
        cipher = self._ciphers.get(kid)
        if cipher is None:
            key = self.keys.by_id(kid)
            if key is None:
                raise CredentialError(
                    f"sealed with key {kid}, which is neither REPOBOX_SECRET_KEY nor one of "
                    "REPOBOX_OLD_SECRET_KEYS"
                )
            cipher = self._ciphers[kid] = AESGCM(_derive(key, self.purpose))
        return cipher

    def _aad(self, kid: str, owner: str, provider: str) -> bytes:
        return "\0".join((VERSION, self.purpose, kid, owner, provider)).encode()

    def seal(self, plaintext: str, *, owner: str, provider: str) -> str:
        kid = self.keys.current_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._cipher(kid).encrypt(
            nonce, plaintext.encode(), self._aad(kid, owner, provider)
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{kid}.{body}"

    def open(self, blob: str, *, owner: str, provider: str) -> str:
        version, kid, body = _split(blob)
        if version != VERSION:
            raise CredentialError(f"unknown sealed format {version!r}")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, binascii.Error):
            raise CredentialError("sealed value is damaged") from None
        if len(raw) <= NONCE_BYTES:
            raise CredentialError("sealed value is damaged")
        try:
            plain = self._cipher(kid).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._aad(kid, owner, provider)
            )
        except InvalidTag:
            raise CredentialError(
                "sealed value does not open: it was altered or belongs to someone else"
            ) from None
        return plain.decode()

    def is_current(self, blob: str) -> bool:
        """Whether `blob` was sealed with the current key (rotation skips those)."""
        return _split(blob)[1] == self.keys.current_id

    def reseal(self, blob: str, *, owner: str, provider: str) -> str:
        """The same value sealed under the current key (a fresh nonce too)."""
        return self.seal(
            self.open(blob, owner=owner, provider=provider), owner=owner, provider=provider
        )


def _split(blob: str) -> tuple[str, str, str]:
    parts = blob.split(".")
    if len(parts) != 3:
        raise CredentialError("sealed value is damaged")
    return parts[0], parts[1], parts[2]
