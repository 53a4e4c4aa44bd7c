"""The attachment caps and kinds, against a real local file host: each file, the count and
the total are capped, kinds are told by the bytes, redirects go nowhere unlisted, and
every file not attached is named."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.agents.attachments import MAX_FILES, Wanted, fetch_all, scratch_folder
from tests.attachment_support import PNG

FILES = {
    "/shot.png": PNG,
    "/notes.txt": b"hello\n",
    "/tool.exe": b"MZ\x90\x00binary",
    "/big.png": PNG + b"\0" * (6 * 1024 * 1024),
    "/latin.txt": "café".encode("latin-1"),
}


@pytest.fixture
def host() -> Iterator[tuple[str, list[str]]]:
    asked: list[str] = []

    class Files(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            if self.path == "/away":
                self.send_response(302)
                self.send_header("Location", "http://example.invalid/x.png")
                self.end_headers()
                return
            body = FILES.get(self.path, PNG)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def folder(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    found = scratch_folder(tmp_path)
    assert found is not None
    return found


def test_kinds_sizes_and_redirects(host: tuple[str, list[str]], tmp_path: Path) -> None:
    url, asked = host
    wanted = [Wanted(path.lstrip("/"), url + path) for path in FILES]
    wanted.append(Wanted("away.png", url + "/away"))
    got, notes = fetch_all(wanted, token="xoxb-t", hosts={url}, folder=folder(tmp_path))
    assert [(a.name, a.media_type) for a in got] == [
        ("shot.png", "image/png"),
        ("notes.txt", "text/plain"),
    ]
    assert (
        got[0].path.read_bytes() == PNG
        and got[0].path.parent == tmp_path / ".git/repobox/attachments"
    )
    assert notes == [
        "not attached: tool.exe: only images (PNG, JPEG, GIF, WebP) and text",
        "not attached: big.png: over 5.0 MB",
        "not attached: latin.txt: only images (PNG, JPEG, GIF, WebP) and text",
        "not attached: away.png: the host answered HTTP 302",
    ]
    assert "/away" in asked and len(asked) == len(wanted)  # example.invalid never asked


def test_count_and_total_are_capped_and_named(host: tuple[str, list[str]], tmp_path: Path) -> None:
    url, asked = host
    many = [Wanted(f"{n}.png", f"{url}/{n}.png") for n in range(MAX_FILES + 2)]
    got, notes = fetch_all(many, token="t", hosts={url}, folder=folder(tmp_path))
    assert len(got) == MAX_FILES
    assert notes == [
        f"not attached: {n}.png: a prompt takes at most {MAX_FILES} files" for n in (10, 11)
    ]
    assert len(asked) == MAX_FILES
    listed = [Wanted("a.png", f"{url}/a.png", size=15 * 1024 * 1024)]
    _, over = fetch_all(listed, token="t", hosts={url}, folder=folder(tmp_path))
    assert over == ["not attached: a.png (15.0 MB): over 5.0 MB per file"]
