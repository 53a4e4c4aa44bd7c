"""Credentials at rest: AES-256-GCM blobs that name their key and are bound to an owner."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from bot.core.config import Settings
from bot.core.errors import ConfigError
from bot.security.credentials import (
    KEY_FILE,
    CredentialError,
    KeyRing,
    Vault,
    key_id,
    keyring,
    load_keyring,
)

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()
TOKEN = "glpat-abcdefghijklmnopqrst"


def vault(current: str, *old: str) -> Vault:
    return Vault(load_keyring(Settings(secret_key=current, old_secret_keys=old)))


def test_round_trip_and_every_seal_is_different() -> None:
    v = vault(KEY_A)
    first = v.seal(TOKEN, owner="p1", provider="gitlab")
    second = v.seal(TOKEN, owner="p1", provider="gitlab")
    assert first != second  # a fresh nonce per value
    assert TOKEN not in first and "abcdefgh" not in first
    assert first.startswith(f"v1.{key_id(b'A' * 32)}.")
    assert v.open(first, owner="p1", provider="gitlab") == TOKEN


@pytest.mark.parametrize("position", [5, 20, -1])
def test_a_tampered_blob_does_not_open(position: int) -> None:
    v = vault(KEY_A)
    blob = v.seal(TOKEN, owner="p1", provider="gitlab")
    version, kid, body = blob.split(".")
    flipped = body[:position] + ("A" if body[position] != "A" else "B") + body[position + 1 :]
    if position == -1:
        flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    with pytest.raises(CredentialError):
        v.open(f"{version}.{kid}.{flipped}", owner="p1", provider="gitlab")
    with pytest.raises(CredentialError):
        v.open("v1.nodots", owner="p1", provider="gitlab")


def test_a_blob_moved_to_another_owner_or_provider_does_not_open() -> None:
    v = vault(KEY_A)
    blob = v.seal(TOKEN, owner="p1", provider="gitlab")
    with pytest.raises(CredentialError, match="someone else"):
        v.open(blob, owner="p2", provider="gitlab")
    with pytest.raises(CredentialError):
        v.open(blob, owner="p1", provider="github")
    other_purpose = Vault(v.keys, purpose="web-session")
    with pytest.raises(CredentialError):
        other_purpose.open(blob, owner="p1", provider="gitlab")


def test_an_unknown_key_id_is_said_plainly() -> None:
    blob = vault(KEY_A).seal(TOKEN, owner="p1", provider="gitlab")
    with pytest.raises(CredentialError, match=r"neither REPOBOX_SECRET_KEY nor .*OLD") as info:
        vault(KEY_B).open(blob, owner="p1", provider="gitlab")
    assert TOKEN not in str(info.value)


def test_rotation_opens_with_an_old_key_and_seals_with_the_new() -> None:
    old_blob = vault(KEY_A).seal(TOKEN, owner="p1", provider="gitlab")
    rotated = vault(KEY_B, KEY_A)
    assert not rotated.is_current(old_blob)
    assert rotated.open(old_blob, owner="p1", provider="gitlab") == TOKEN
    fresh = rotated.reseal(old_blob, owner="p1", provider="gitlab")
    assert rotated.is_current(fresh)
    assert vault(KEY_B).open(fresh, owner="p1", provider="gitlab") == TOKEN  # old key gone


def test_bad_keys_stop_start_up_with_the_variable_named() -> None:
    with pytest.raises(ConfigError, match="REPOBOX_SECRET_KEY must be base64 of 32 bytes"):
        load_keyring(Settings(secret_key="not base64!"))
    with pytest.raises(ConfigError, match="REPOBOX_SECRET_KEY"):
        load_keyring(Settings(secret_key=base64.b64encode(b"short").decode()))
    with pytest.raises(ConfigError, match="REPOBOX_OLD_SECRET_KEYS"):
        load_keyring(Settings(secret_key=KEY_A, old_secret_keys=("nope",)))
    ring = load_keyring(Settings(secret_key=KEY_A, old_secret_keys=(KEY_A, KEY_B)))
    assert ring.ids == (key_id(b"A" * 32), key_id(b"B" * 32))
    assert "AAAA" not in repr(ring)


def test_without_a_key_one_is_generated_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(secret_key=None, data_dir=tmp_path / "data")
    ring = keyring(settings)
    path = tmp_path / "data" / KEY_FILE
    assert path.read_bytes() == ring.current and len(ring.current) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(settings) == ring  # a second process reads the same key
    assert [p.name for p in (tmp_path / "data").iterdir()] == [KEY_FILE]  # no temporary left
    path.write_bytes(b"short")
    with pytest.raises(ConfigError, match="must hold 32 bytes"):
        load_keyring(settings)


def test_the_key_ring_is_read_once_per_process(tmp_path: Path) -> None:
    settings = Settings(secret_key=None, data_dir=tmp_path / "once")
    first = keyring(settings)
    (tmp_path / "once" / KEY_FILE).unlink()
    assert keyring(settings) is first
    assert isinstance(first, KeyRing)
