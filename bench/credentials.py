"""What sealing costs: a credential's seal and open, and a session cookie's, against the
HMAC signature of a live-page link (the cheapest keyed operation Repobox already does on
every page view), measured in the same run.

    python bench/credentials.py [rounds]
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.config import Settings
from bot.security.credentials import Vault, keyring
from bot.security.links import session_link, verify

KEY = base64.b64encode(b"k" * 32).decode()
TOKEN = "glpat-" + "x" * 20


def per_call(fn: Callable[[], object], rounds: int) -> float:
    """Microseconds per call, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        best = min(best, (time.perf_counter() - start) / rounds)
    return best * 1e6


def main(rounds: int) -> None:
    settings = Settings(secret_key=KEY, public_url="http://localhost:3000")
    ring = keyring(settings)
    credentials, cookies = Vault(ring), Vault(ring, purpose="web-session")
    blob = credentials.seal(TOKEN, owner="p1", provider="gitlab")
    session = json.dumps({"person_id": "p1", "csrf": "c" * 32, "expires": 1e10, "notice": None})
    cookie = cookies.seal(session, owner="browser", provider="session")
    link = session_link(settings, "abcd1234")
    expires, sig = link.split("expires=")[1].split("&sig=")

    baseline = per_call(lambda: verify(settings, "abcd1234", expires, sig), rounds)
    rows = [
        ("link signature check (baseline)", baseline),
        (
            "credential seal",
            per_call(lambda: credentials.seal(TOKEN, owner="p1", provider="gitlab"), rounds),
        ),
        (
            "credential open",
            per_call(lambda: credentials.open(blob, owner="p1", provider="gitlab"), rounds),
        ),
        (
            "cookie seal",
            per_call(lambda: cookies.seal(session, owner="browser", provider="session"), rounds),
        ),
        (
            "cookie open",
            per_call(lambda: cookies.open(cookie, owner="browser", provider="session"), rounds),
        ),
    ]
    print(f"{rounds} rounds each, best of 3; cookie {len(cookie)} bytes")
    for name, micros in rows:
        print(f"{name:34s} {micros:8.1f} µs   {micros / baseline:5.2f}× baseline")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
