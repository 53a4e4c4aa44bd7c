"""Redaction: secrets never reach a reply, a log line or an event."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# Credentials embedded in URLs (https://user:token@host) and well-known token shapes.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s:@]+(:[^/\s@]*)?@", re.I)
_TOKEN_SHAPES = re.compile(
    r"\b(xox[abposr]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}|gh[pousr]_[A-Za-z0-9]{16,}"
    r"|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}|sk-ant-[A-Za-z0-9_-]{16,})\b"
)


class Redactor:
    """Replaces every known secret value, URL credential and token-shaped string."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
        return _TOKEN_SHAPES.sub(REDACTED, text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    return Redactor(secrets)(text)
