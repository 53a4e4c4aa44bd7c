"""The sandbox's network allow-list, in real bubblewrap with real curl: a listed host (a
local test server) answers through the proxy, any other host is refused by name, and a
command that ignores the proxy reaches nothing (its network namespace has only loopback).
"""

from __future__ import annotations

import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.config import Settings
from bot.security.egress_proxy import EgressProxy, host_allowed
from bot.security.sandbox import probe, sandbox_for

pytestmark = pytest.mark.skipif(not probe().usable, reason="bubblewrap cannot run here")


@pytest.fixture
def site() -> Iterator[int]:
    """A local server standing for a listed host (a registry, the model API)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)

    class Hello(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections open, as real origins do

        def do_GET(self) -> None:
            ok = not self.path.startswith("http")  # a request in proxy form is not routed
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"hello\n" if ok else b"wrong\n")

        def log_message(self, *_: object) -> None:
            pass

    server.RequestHandlerClass = Hello
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def run(
    settings: Settings, tmp_path: Path, argv: list[str], sock: Path
) -> subprocess.CompletedProcess[str]:
    sandbox = sandbox_for(settings.with_changes(sandbox="require"))
    assert sandbox is not None
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    proxy = EgressProxy(sock, [])  # only its socket path is read here
    line = sandbox.with_egress(proxy).wrap(argv, workdir)
    return subprocess.run(line, capture_output=True, text=True, timeout=120, check=False)


def test_listed_host_works_others_are_refused_by_name(
    settings: Settings, tmp_path: Path, site: int
) -> None:
    sock = tmp_path / "proxy.sock"
    with EgressProxy(sock, ["127.0.0.1"]) as proxy:
        listed = run(settings, tmp_path, ["curl", "-sS", f"http://127.0.0.1:{site}/"], sock)
        assert listed.returncode == 0 and listed.stdout == "hello\n"
        tunnel = ["curl", "-sS", "-p", f"http://127.0.0.1:{site}/"]  # CONNECT, as for HTTPS
        assert run(settings, tmp_path, tunnel, sock).stdout == "hello\n"

        other = run(settings, tmp_path, ["curl", "-sSf", "https://example.com/"], sock)
        assert other.returncode != 0
        assert proxy.refused == ["example.com"]

        # A command that ignores the proxy has no network at all.
        direct = ["curl", "-sS", "--noproxy", "*", "-m", "10", f"http://127.0.0.1:{site}/"]
        bypass = run(settings, tmp_path, direct, sock)
        assert bypass.returncode != 0 and "hello" not in bypass.stdout


def test_plain_http_requests_on_one_connection_each_reach_the_origin(
    settings: Settings, tmp_path: Path, site: int
) -> None:
    """curl reuses its connection for a second URL: the proxy closes after each request,
    so the second goes on a new connection instead of arriving at the origin in proxy form."""
    sock = tmp_path / "proxy.sock"
    url = f"http://127.0.0.1:{site}/"
    with EgressProxy(sock, ["127.0.0.1"]):
        twice = run(settings, tmp_path, ["curl", "-sSf", url, url], sock)
    assert twice.returncode == 0, twice.stderr
    assert twice.stdout == "hello\nhello\n"


def test_suffix_entries_allow_subdomains_only() -> None:
    assert host_allowed("files.pythonhosted.org", [".pythonhosted.org"])
    assert host_allowed("pypi.org", ["PyPI.org"])
    assert not host_allowed("evilpypi.org", ["pypi.org", ".pypi.org"])
