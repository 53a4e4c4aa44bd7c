"""Signed session links: valid, expired, tampered, moved to another session; the key file."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app import parse_args
from bot.core.config import Settings
from bot.core.errors import ConfigError
from bot.security.links import KEY_FILE, secret_key, session_link, verify
from bot.sessions.session import Person, Thread
from handlers.cli import sessions as cli
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo


def parts(link: str) -> tuple[str, str, str]:
    url = urlsplit(link)
    query = parse_qs(url.query)
    return url.path.rsplit("/", 1)[-1], query["expires"][0], query["sig"][0]


def test_a_fresh_link_verifies_for_its_own_session_only(settings: Settings) -> None:
    link = session_link(settings, "abcd1234", ttl=60)
    assert link.startswith("http://repobox.test/sessions/abcd1234?")
    session_id, expires, sig = parts(link)
    assert verify(settings, session_id, expires, sig)
    assert not verify(settings, "abcd1235", expires, sig)


def test_expired_tampered_extended_and_missing_links_fail(settings: Settings) -> None:
    _id, expires, sig = parts(session_link(settings, "abcd1234", ttl=-1))
    assert not verify(settings, "abcd1234", expires, sig)  # expired

    _id, expires, sig = parts(session_link(settings, "abcd1234", ttl=60))
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert not verify(settings, "abcd1234", expires, flipped)
    assert not verify(settings, "abcd1234", str(int(expires) + 3600), sig)  # extended
    assert not verify(settings, "abcd1234", expires, None)
    assert not verify(settings, "abcd1234", None, sig)
    assert not verify(settings, "abcd1234", "-5", sig)
    assert not verify(settings, "abcd1234", expires, sig[:-2])


def test_another_key_does_not_verify(settings: Settings) -> None:
    _id, expires, sig = parts(session_link(settings, "abcd1234", ttl=60))
    other = settings.with_changes(secret_key="b3RoZXIta2V5LTMyLWJ5dGVzLWxvbmcuLi4uLi4uLi4=")
    assert not verify(other, "abcd1234", expires, sig)


def test_without_a_configured_key_one_is_generated_once_into_the_data_dir(
    settings: Settings, tmp_path: Path
) -> None:
    unset = settings.with_changes(secret_key=None, data_dir=tmp_path / "fresh")
    first = secret_key(unset)
    key_file = tmp_path / "fresh" / KEY_FILE
    assert len(first) == 32 and key_file.read_bytes() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert secret_key(unset) == first  # stable across calls and processes
    _id, expires, sig = parts(session_link(unset, "abcd1234", ttl=60))
    assert verify(unset, "abcd1234", expires, sig)


def test_cli_status_prints_a_working_signed_link_to_the_live_page(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(make_repo()),
            base=None,
            prompt=None,
            thread=Thread("cli", "links"),
            person=Person("U1", "Alice"),
            request_id="links-1",
        )
    )
    out = io.StringIO()
    assert cli.main(parse_args(["session", "status", started.session.id]), ctx.settings, out) == 0
    line = next(x for x in out.getvalue().splitlines() if "live log" in x)
    session_id, expires, sig = parts(line.split()[-1])
    assert session_id == started.session.id and verify(ctx.settings, session_id, expires, sig)


@pytest.mark.parametrize("value", ["not base64!", "c2hvcnQ="])
def test_a_bad_secret_key_stops_start_up(value: str) -> None:
    with pytest.raises(ConfigError, match="REPOBOX_SECRET_KEY must be base64 of 32 bytes"):
        Settings.from_env({"REPOBOX_SECRET_KEY": value})
