"""Which settings and environment variables are secrets, and the secret key's format.

Redaction and the environment of every process Repobox starts are built from these names.
"""

from __future__ import annotations

import base64

from bot.core.errors import ConfigError


def is_secret_field(name: str) -> bool:
    return name.endswith(("_token", "_secret", "_key")) or name == "redis_url"


SECRET_ENV_NAMES = frozenset(
    {
        "REDIS_URL",
        "REPOBOX_SECRET_KEY",
        "REPOBOX_OLD_SECRET_KEYS",
        "GITHUB_CLIENT_SECRET",
        "GITLAB_CLIENT_SECRET",
        "REPOBOX_OIDC_CLIENT_SECRET",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "GITLAB_TOKEN",
        "GITLAB_WEBHOOK_SECRET",
        "GITHUB_TOKEN",
        "GITHUB_WEBHOOK_SECRET",
        "REPOBOX_GITHUB_APP_PRIVATE_KEY",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GH_TOKEN",
        "GL_TOKEN",
    }
)


def decode_secret_key(value: str, name: str = "REPOBOX_SECRET_KEY") -> bytes:
    """A secret key setting as its 32 bytes (base64 of exactly 32 bytes, or a ConfigError)."""
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except ValueError:
        raise ConfigError(f"{name} must be base64 of 32 bytes (docs/configuration.md)") from None
    if len(key) != 32:
        raise ConfigError(f"{name} must be base64 of 32 bytes, got {len(key)} bytes")
    return key
