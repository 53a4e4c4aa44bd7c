"""The platforms' published API descriptions the fakes validate against, fetched once.

GitHub's OpenAPI description comes from the `@octokit/openapi` npm package, pinned here
(the way tests/claude_cli.py pins the Claude Code CLI): installed with npm on first use
into a scratch folder, and only `api.github.com.json` is kept, in the cache folder
(`REPOBOX_TEST_CACHE`, else `~/.cache/repobox-tests`), shared by every checkout and both
test processes. Only a package registry needs to be reachable.

Offline and not under CI, the fakes run unvalidated against GitHub's description and the
tests that prove the validation skip with the reason; under `CI=true` a failed fetch fails.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

OCTOKIT_OPENAPI = "@octokit/openapi"
OCTOKIT_OPENAPI_VERSION = "23.0.2"
GITHUB_FILE = "generated/api.github.com.json"


class DescriptionUnavailable(RuntimeError):
    """The description could not be fetched (offline, or no npm) outside CI."""


def cache_dir() -> Path:
    explicit = os.environ.get("REPOBOX_TEST_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "repobox-tests"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def github_description_path() -> Path:
    """The cached `api.github.com.json` of the pinned `@octokit/openapi`, fetched if needed.

    Raises `DescriptionUnavailable` when it cannot be fetched and we are not under CI (under
    CI the underlying error propagates, so the run fails). One attempt per process: offline,
    every later call raises at once instead of waiting on npm again."""
    found = _github_description_path()
    if isinstance(found, DescriptionUnavailable):
        raise found
    return found


@functools.cache
def _github_description_path() -> Path | DescriptionUnavailable:
    target = cache_dir() / f"github-openapi-{OCTOKIT_OPENAPI_VERSION}.json"
    if target.exists():
        return target
    try:
        return _fetch(target)
    except (OSError, subprocess.SubprocessError) as exc:
        if in_ci():
            raise
        return DescriptionUnavailable(
            f"could not install {OCTOKIT_OPENAPI}@{OCTOKIT_OPENAPI_VERSION} with npm "
            f"({type(exc).__name__}: {exc}); GitHub requests are not validated"
        )


def _fetch(target: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not installed")
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one fetch even when test processes race
        if target.exists():
            return target
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            subprocess.run(
                [
                    npm,
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--ignore-scripts",
                    "--prefix",
                    scratch,
                    f"{OCTOKIT_OPENAPI}@{OCTOKIT_OPENAPI_VERSION}",
                ],
                check=True,
                capture_output=True,
                timeout=600,
            )
            source = Path(scratch) / "node_modules" / OCTOKIT_OPENAPI / GITHUB_FILE
            partial = target.with_suffix(".partial")
            shutil.copyfile(source, partial)
            partial.replace(target)
    return target
