"""Repobox as a GitHub App end to end: signed deliveries posted to the real app, the real
PyGithub (JWT and installation tokens) against the fake GitHub and its App endpoints, real
RQ jobs, real git against a bare repository."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from redis import Redis

from bot.core import keys
from bot.core.config import Settings
from bot.core.errors import ConfigError, UserError
from bot.doctor.checks import check_github
from bot.forges import registry
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.github_app import GitHubApp
from tests.forge_harness import WebApp

SECRET = "github-app-hook-secret"
REPO = "octo/widgets"
APP_ID = 424242


def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class Hub:
    fake: FakeGitHub
    app: GitHubApp
    web: WebApp
    ctx: JobContext
    settings: Settings

    def comment(self, number: int, body: str, user: str = "alice") -> None:
        payload = self.fake.issue_comment_payload(
            REPO, number, body, user=user, installation_id=next(iter(self.app.installations))
        )
        sent, headers = webhook_request(payload, SECRET)
        assert self.web.post("/webhooks/github", sent, headers)[0] == 202
        run_jobs(self.ctx)

    def bot_comments(self, number: int) -> list[Any]:
        return [c for c in self.fake.comments(REPO, number) if c.user == "repobox[bot]"]


@pytest.fixture
def hub(settings: Settings, redis: Redis, make_repo: MakeRepo) -> Iterator[Hub]:
    origin = make_repo(files={"README.md": "# Hello\n"})
    private, public = key_pair()
    with FakeGitHub() as fake:
        fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write", "eve": "read"})
        fake.add_repo("octo/private", origin.as_uri())
        fake.add_repo("elsewhere/thing", origin.as_uri())
        app = GitHubApp(fake, APP_ID, public)
        app.install("octo", repositories=[REPO])
        configured = settings.with_changes(
            github_api_url=fake.url,
            github_app_id=str(APP_ID),
            github_app_private_key=private,
            github_webhook_secret=SECRET,
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as web:
            yield Hub(fake, app, web, ctx, configured)


def test_a_pull_request_is_opened_with_an_installation_token_as_the_apps_bot(hub: Hub) -> None:
    fake = hub.fake
    issue = fake.add_issue(REPO, "Add notes", "Please add notes.", user="alice")
    hub.comment(issue.number, "@repobox write notes.txt: hello")
    hub.comment(issue.number, "ship it @repobox")

    [pull] = fake.pulls(REPO)
    assert pull.user == "repobox[bot]"
    assert hub.bot_comments(issue.number)[-1].body.startswith("@alice Opened pull request")
    assert git("show", f"{pull.head}:notes.txt", cwd=hub.ctx.settings.data_dir.parent / "remotes"
               / "origin.git") == "hello\n"  # fmt: skip
    # Every API call of the installation went with an installation token, none with a JWT.
    calls = [c for c in fake.calls if c.path.startswith("/repos/") and "installation" not in c.path]
    tokens = {c.headers.get("Authorization", "").split(" ", 1)[-1] for c in calls}
    assert tokens <= set(hub.app.minted) and tokens
    minted = [c for c in fake.calls if c.path.endswith("/access_tokens")]
    assert len(minted) == 1  # cached across both jobs: one token for the whole conversation


def test_a_token_that_expires_mid_session_is_minted_again(hub: Hub) -> None:
    fake = hub.fake
    issue = fake.add_issue(REPO, "Add notes", "", user="alice")
    hub.comment(issue.number, "@repobox write notes.txt: hello")
    assert len(hub.app.minted) == 1
    hub.app.expire()  # GitHub stops taking it before the time it announced
    hub.comment(issue.number, "ship it @repobox")

    assert len(hub.app.minted) == 2
    [pull] = fake.pulls(REPO)
    assert pull.user == "repobox[bot]"
    refused = [c for c in fake.calls if c.status == 401]
    assert refused and all(c.headers["Authorization"].endswith(hub.app.minted[0]) for c in refused)


def test_a_token_close_to_its_expiry_is_not_used(hub: Hub) -> None:
    hub.app.lifetime = timedelta(minutes=4)  # inside the five minutes kept in hand
    provider = registry.for_name("github", hub.settings)
    provider.resolve(REPO)
    provider.resolve(REPO)
    assert len(hub.app.minted) == 2


def test_a_repository_outside_the_installation_gets_a_clear_message(hub: Hub) -> None:
    provider = registry.for_name("github", hub.settings)
    install = f"{hub.fake.url}/apps/repobox/installations/new"
    for outside in ("octo/private", "elsewhere/thing"):
        with pytest.raises(UserError) as refused:
            provider.resolve(outside)
        assert str(refused.value) == (
            f"Repobox's GitHub App is not installed on {outside}: install it at {install} "
            "(and give it that repository), then ask again."
        )


def deliver(hub: Hub, event: str, payload: dict[str, Any]) -> tuple[int, Any]:
    sent, headers = webhook_request(payload, SECRET, event)
    return hub.web.post("/webhooks/github", sent, headers)


def recorded(redis: Redis) -> dict[str, Any]:
    raw = redis.hgetall(keys.github_installations())
    return {k.decode(): json.loads(v) for k, v in raw.items()}


def test_installation_webhooks_record_where_the_app_is_installed(hub: Hub, redis: Redis) -> None:
    app = hub.app
    everywhere = app.install("elsewhere")
    assert deliver(hub, "installation", app.installation_payload("created", everywhere)) == (
        202,
        {"status": "recorded"},
    )
    octo = next(iter(app.installations.values()))
    added = app.repositories_payload(octo, added=["octo/private"], removed=[])
    assert deliver(hub, "installation_repositories", added)[0] == 202
    removed = app.repositories_payload(octo, added=[], removed=[REPO])
    assert deliver(hub, "installation_repositories", removed)[0] == 202

    found = recorded(redis)
    assert found[str(everywhere.id)]["account"] == "elsewhere"
    assert found[str(everywhere.id)]["repositories"] == "all"
    assert found[str(octo.id)]["repositories"] == ["octo/private"]

    gone = deliver(hub, "installation", app.installation_payload("deleted", everywhere))
    assert gone == (202, {"status": "recorded"})
    assert str(everywhere.id) not in recorded(redis)
    odd = app.installation_payload("created", octo) | {"action": "renamed_somehow"}
    assert deliver(hub, "installation", odd) == (202, {"status": "ignored"})


def test_a_malformed_installation_delivery_is_a_clear_400(hub: Hub) -> None:
    status, body = deliver(hub, "installation", {"action": "created", "installation": {"id": "x"}})
    assert status == 400 and "installation" in json.dumps(body)


def test_the_doctor_checks_the_app(hub: Hub) -> None:
    check = check_github(hub.settings)
    assert check.ok, check.line
    assert check.detail == (
        f"App repobox (id {APP_ID}), acting as repobox[bot], installed on octo (selected "
        "repositories)"
    )
    other, _ = key_pair()  # a key GitHub does not know
    refused = check_github(hub.settings.with_changes(github_app_private_key=other))
    assert not refused.ok and "GitHub refused the App's JWT (HTTP 401" in refused.detail
    assert "BEGIN" not in refused.line
    broken = check_github(
        hub.settings.with_changes(github_app_private_key="-----BEGIN RSA PRIVATE KEY-----\nnope\n")
    )
    assert not broken.ok and "cannot sign a JWT" in broken.detail


def test_the_app_settings_read_a_key_file_and_keep_the_key_secret(tmp_path: Any) -> None:
    private, _ = key_pair()
    pem = tmp_path / "app.pem"
    pem.write_text(private)
    read = Settings.from_env(
        {"REPOBOX_GITHUB_APP_ID": "7", "REPOBOX_GITHUB_APP_PRIVATE_KEY_FILE": str(pem)}
    )
    assert read.github_ready and read.github_app_private_key == private.strip() + "\n"
    assert read.github_app_private_key in read.secret_values()
    assert "REPOBOX_GITHUB_APP_PRIVATE_KEY" in read.secret_env_names
    with pytest.raises(ConfigError, match="needs both REPOBOX_GITHUB_APP_ID"):
        Settings.from_env({"REPOBOX_GITHUB_APP_ID": "7"})
