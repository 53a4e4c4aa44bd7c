"""Why a host could not be reached, in words a person can act on.

Client libraries wrap the cause several times (slack-sdk's `URLError`, requests'
`ConnectionError` around urllib3's around a `socket.gaierror`); the class name at the top
says nothing useful. This walks the chain down to the cause and names it.
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

DEPTH = 12


def causes(error: BaseException) -> list[BaseException]:
    """`error` and everything it wraps: causes, contexts, and `.reason` / exception args."""
    found: list[BaseException] = []
    todo: list[BaseException] = [error]
    while todo and len(found) < DEPTH:
        current = todo.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        reason = getattr(current, "reason", None)
        wrapped = [current.__cause__, current.__context__, reason, *current.args]
        todo += [w for w in wrapped if isinstance(w, BaseException)]
    return found


def why_unreachable(error: BaseException, url: str) -> str:
    """ "name resolution failed for slack.com", "api.github.com refused the connection", …"""
    host = urlsplit(url).hostname or url
    chain = causes(error)
    for cause in chain:
        if isinstance(cause, socket.gaierror):
            return f"name resolution failed for {host}"
        if isinstance(cause, ConnectionRefusedError):
            return f"{host} refused the connection (nothing listens at {_origin(url)})"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"{host}'s TLS certificate was not accepted ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake with {host} failed"
        if isinstance(cause, TimeoutError | socket.timeout):
            return f"{host} did not answer in time"
    for cause in chain:
        if isinstance(cause, OSError) and cause.strerror:
            return f"{cause.strerror.lower()} ({host})"
    text = str(chain[-1]) or str(error)
    return f"{text} ({host})" if text else f"no connection to {host}"


def unreachable(service: str, error: BaseException, url: str, setting: str) -> tuple[str, str]:
    """(detail, next step) for a service that could not be reached at `url`."""
    return (
        f"{service} could not be reached: {why_unreachable(error, url)}",
        f"Check this machine's network, or {setting} ({_origin(url)}).",
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url
