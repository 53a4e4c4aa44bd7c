"""Redaction: secrets never reach a reply, a log line or an event.

Every pattern here runs in time linear in the text, since it sees whatever people type
(a 1 MB comment body, a 300,000-letter login): each match starts only where a token or
URL can start (never inside a run of letters), and no quantifier can backtrack over the
same characters from another start. Tokens are masked, not erased (`ghp_****abcd`), so
an operator can still tell which token showed up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# Credentials embedded in URLs (https://user:token@host). The scheme must start a word,
# so a long run of letters is scanned once, not once per letter.
_URL_CREDENTIALS = re.compile(
    r"(?<![a-z0-9+.-])(?P<scheme>[a-z][a-z0-9+.-]*+://)[^/\s:@]++(?::[^/\s@]*+)?@", re.I
)
# Well-known token shapes: a fixed prefix at the start of a word, then the token's body.
_TOKEN_SHAPES = re.compile(
    r"(?<![A-Za-z0-9_])(?P<prefix>xox[abposr]-|xapp-|gh[pousr]_|github_pat_|glpat-|sk-ant-)"
    r"(?P<body>(?<=_)[A-Za-z0-9_]{16,}+|(?<=-)[A-Za-z0-9_-]{8,}+)"
)
_SHORTEST_SHOWN = 16  # a known secret shorter than this shows no characters at all


def mask(token: str, prefix: str) -> str:
    """`ghp_****abcd`: the kind of token and its last four characters, nothing else."""
    if len(token) - len(prefix) < _SHORTEST_SHOWN:
        return f"{prefix}****"
    return f"{prefix}****{token[-4:]}"


def _masked_shape(match: re.Match[str]) -> str:
    return mask(match.group(0), match.group("prefix"))


class Redactor:
    """Masks every known secret value, URL credential and token-shaped string."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
        self.longest = max((len(s) for s in self._secrets), default=0)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, self._mask_secret(secret))
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
        return _TOKEN_SHAPES.sub(_masked_shape, text)

    @staticmethod
    def _mask_secret(secret: str) -> str:
        """A token keeps its kind and last four; other secrets (signing and webhook
        secrets, keys) show nothing at all."""
        shaped = _TOKEN_SHAPES.fullmatch(secret)
        return _masked_shape(shaped) if shaped else REDACTED


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    return Redactor(secrets)(text)
