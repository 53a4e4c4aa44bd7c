"""Linked accounts on a real Valkey: identities, sealed tokens, masking, unlink, rotation."""

from __future__ import annotations

import base64
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from redis import Redis

from bot.core import keys
from bot.core.config import Settings
from bot.core.errors import Conflict
from bot.core.redisio import connect
from bot.identity.people import Credential, Identity, IdentityKind, Provider, Source, masked
from bot.security.credentials import CredentialError, Vault, load_keyring
from tests.accounts_support import SyncAccounts
from tests.conftest import ROOT, env_for

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()
GITLAB_TOKEN = "glpat-abcdefghijklmnopqrst"
GITHUB_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123"


def store(redis: Redis, settings: Settings, current: str = KEY_A, *old: str) -> SyncAccounts:
    settings = settings.with_changes(secret_key=current, old_secret_keys=old)
    return SyncAccounts(settings, redis, Vault(load_keyring(settings)))


def test_masked_keeps_the_kind_and_last_four_only() -> None:
    assert masked(GITLAB_TOKEN) == "glpat-****qrst"
    assert masked(GITHUB_TOKEN) == "ghp_****0123"
    assert masked("an-unshaped-token-of-some-length") == "****ngth"
    assert masked("short") == "****"


def test_a_token_is_stored_sealed_and_listed_masked(redis: Redis, settings: Settings) -> None:
    accounts = store(redis, settings)
    alice = accounts.person_for(Identity.slack("T1", "U1"), "Alice")
    accounts.save_credential(
        alice.id, Credential(Provider.GITLAB, GITLAB_TOKEN, "Alice", ("api",), Source.TOKEN)
    )
    dump = b"".join(redis.dump(k) or b"" for k in redis.keys("repobox:*"))
    assert GITLAB_TOKEN.encode() not in dump and b"abcdefghijkl" not in dump
    [shown] = accounts.connections(alice.id)
    assert (shown.provider, shown.login, shown.masked, shown.scopes) == (
        Provider.GITLAB,
        "Alice",
        "glpat-****qrst",
        ("api",),
    )
    assert GITLAB_TOKEN not in repr(shown) and GITLAB_TOKEN not in repr(
        accounts.credential(alice.id, Provider.GITLAB)
    )
    assert accounts.credential(alice.id, Provider.GITLAB) == Credential(
        Provider.GITLAB, GITLAB_TOKEN, "Alice", ("api",), Source.TOKEN
    )
    assert accounts.find(Identity(IdentityKind.GITLAB, "alice")) == alice
    assert accounts.person_for(Identity.slack("T1", "U1"), "someone else") == alice


def test_a_sealed_token_copied_to_another_person_does_not_open(
    redis: Redis, settings: Settings
) -> None:
    accounts = store(redis, settings)
    alice = accounts.create_person("Alice")
    mallory = accounts.create_person("Mallory")
    accounts.save_credential(alice.id, Credential(Provider.GITHUB, GITHUB_TOKEN, "alice"))
    stolen = redis.hget(keys.credentials(alice.id), "github")
    assert stolen is not None
    redis.hset(keys.credentials(mallory.id), "github", stolen)
    with pytest.raises(CredentialError):
        accounts.credential(mallory.id, Provider.GITHUB)


def test_an_identity_belongs_to_one_person(redis: Redis, settings: Settings) -> None:
    accounts = store(redis, settings)
    alice = accounts.create_person("Alice")
    bob = accounts.create_person("Bob")
    accounts.link_identity(alice.id, Identity.forge(Provider.GITHUB, "Alice"))
    with pytest.raises(Conflict, match="already linked to another person"):
        accounts.link_identity(bob.id, Identity.forge(Provider.GITHUB, "alice"))
    accounts.link_identity(alice.id, Identity.forge(Provider.GITHUB, "alice2"))  # renamed
    assert accounts.find(Identity.forge(Provider.GITHUB, "alice")) is None
    accounts.link_identity(bob.id, Identity.forge(Provider.GITHUB, "alice"))
    assert accounts.find(Identity.forge(Provider.GITHUB, "alice")) == bob


def test_unlink_forgets_the_token_and_the_login(redis: Redis, settings: Settings) -> None:
    accounts = store(redis, settings)
    alice = accounts.create_person("Alice")
    accounts.save_credential(alice.id, Credential(Provider.GITHUB, GITHUB_TOKEN, "alice"))
    assert accounts.unlink(alice.id, Provider.GITHUB)
    assert accounts.connections(alice.id) == []
    assert accounts.credential(alice.id, Provider.GITHUB) is None
    assert accounts.find(Identity.forge(Provider.GITHUB, "alice")) is None
    assert not accounts.unlink(alice.id, Provider.GITHUB)


def test_admins_come_from_repobox_admins(redis: Redis, settings: Settings) -> None:
    accounts = store(
        redis, settings.with_changes(admins=frozenset({"github:boss", "slack:U9", "gitlabber"}))
    )
    boss = accounts.person_for(Identity.forge(Provider.GITHUB, "Boss"), "Boss")
    slacker = accounts.person_for(Identity.slack("T1", "U9"), "Slacker")
    bare = accounts.person_for(Identity.forge(Provider.GITLAB, "GitLabber"), "G")
    other = accounts.person_for(Identity.forge(Provider.GITLAB, "boss"), "Not boss")
    operator = accounts.person_for(Identity(IdentityKind.OPERATOR, "local"), "Operator")
    assert [accounts.is_admin(p.id) for p in (boss, slacker, bare, other, operator)] == [
        True,
        True,
        True,
        False,
        True,
    ]


def test_rotate_reseals_everything_under_the_current_key(redis: Redis, settings: Settings) -> None:
    before = store(redis, settings, KEY_A)
    people = [before.create_person(name) for name in ("Alice", "Bob")]
    for person in people:
        before.save_credential(person.id, Credential(Provider.GITHUB, GITHUB_TOKEN, person.id))
        before.save_credential(person.id, Credential(Provider.GITLAB, GITLAB_TOKEN, person.id))
    after = store(redis, settings, KEY_B, KEY_A)
    report = after.rotate()
    assert (report.resealed, report.current, report.failed) == (4, 0, ())
    assert after.rotate().current == 4
    only_new = store(redis, settings, KEY_B)
    for person in people:
        assert only_new.credential(person.id, Provider.GITLAB) is not None
        credential = only_new.credential(person.id, Provider.GITHUB)
        assert credential is not None and credential.token == GITHUB_TOKEN
    lost = store(redis, settings, base64.b64encode(b"C" * 32).decode())
    assert lost.rotate().failed == tuple(
        f"{p}/{provider}" for p in sorted(x.id for x in people) for provider in ("github", "gitlab")
    )


def test_keys_rotate_command_reencrypts_and_prints_counts_only(
    redis: Redis, settings: Settings
) -> None:
    before = store(redis, settings, KEY_A)
    alice = before.create_person("Alice")
    before.save_credential(alice.id, Credential(Provider.GITLAB, GITLAB_TOKEN, "alice"))
    env = env_for(settings, REPOBOX_SECRET_KEY=KEY_B, REPOBOX_OLD_SECRET_KEYS=KEY_A)
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "1 credential(s) re-encrypted, 0 already current" in done.stdout
    assert GITLAB_TOKEN not in done.stdout + done.stderr
    credential = store(redis, settings, KEY_B).credential(alice.id, Provider.GITLAB)
    assert credential is not None and credential.token == GITLAB_TOKEN
    bad = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "keys", "rotate"],
        env={**env, "REPOBOX_SECRET_KEY": "too-short"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "REPOBOX_SECRET_KEY must be base64 of 32 bytes" in bad.stderr


def test_racing_first_sights_keep_one_person(
    redis: Redis, settings: Settings, valkey_url: str
) -> None:
    def first_sight(_: int) -> str:
        own = SyncAccounts(settings, connect(valkey_url), Vault(load_keyring(settings)))
        return own.person_for(Identity.slack("T1", "U7"), "Racer").id

    for _round in range(5):
        redis.flushall()
        with ThreadPoolExecutor(8) as pool:
            ids = set(pool.map(first_sight, range(8)))
        assert len(ids) == 1
        assert {m.decode() for m in redis.smembers(keys.people())} == ids
