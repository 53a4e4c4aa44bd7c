"""manifest.yml creates an app that sends Repobox everything its listeners handle."""

from __future__ import annotations

from typing import Any

import yaml

from handlers.slack.route import ROUTE
from tests.slack.support import ROOT


def test_manifest_subscribes_to_what_repobox_handles() -> None:
    manifest: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    features, settings = manifest["features"], manifest["settings"]
    (command,) = features["slash_commands"]
    assert command["command"] == "/repobox"
    urls = [
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert all(url.endswith(ROUTE) for url in urls)
    assert settings["interactivity"]["is_enabled"] is True
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.channels", "message.groups"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = {"app_mentions:read", "channels:history", "groups:history", "chat:write"}
    assert needed | {"commands", "reactions:write"} <= scopes
    assert settings["socket_mode_enabled"] is False  # HTTP by default; see the comments
    assert manifest["display_information"]["name"] == "Repobox"
