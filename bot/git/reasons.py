"""Git's own reason for a failed clone or fetch, in one line people can act on.

git says several lines on stderr: the cause ("Could not resolve host: gitlb.com",
"Authentication failed", "Repository not found", ssh's "Permission denied (publickey)"),
then generic ones ("Could not read from remote repository", "Please make sure you have the
correct access rights…"). People need the cause, so it is picked out here; the text has
been redacted by the runner before it gets here.
"""

from __future__ import annotations

import re

# Causes, most telling first: the first that any line shows is the reason.
CAUSES = (
    "could not resolve host",
    "could not resolve hostname",
    "authentication failed",
    "repository not found",
    "permission denied",
    "host key verification failed",
    "does not appear to be a git repository",
    "not a git repository",
    "connection refused",
    "connection timed out",
    "operation timed out",
    "ssl certificate problem",
    "the requested url returned error",
    "not found",
)
GENERIC = ("could not read from remote repository",)
_PREFIX = re.compile(r"^(?:fatal|error|remote|warning):\s*", re.I)
_UNABLE = re.compile(r"^unable to access '[^']*':\s*", re.I)
LIMIT = 300


def reason(stderr: str) -> str:
    """The line of git's `stderr` that says why; the first `fatal:` line when none names a
    known cause; "" for no output."""
    lines = [_clean(line) for line in stderr.splitlines()]
    lines = [line for line in lines if line and not line.lower().startswith("hint:")]
    for cause in CAUSES:
        for line in lines:
            if cause in line.lower():
                return _short(line)
    specific = [line for line in lines if not any(g in line.lower() for g in GENERIC)]
    return _short((specific or lines or [""])[0])


def _clean(line: str) -> str:
    text = line.strip()
    while _PREFIX.match(text):
        text = _PREFIX.sub("", text, count=1)
    return _UNABLE.sub("", text).strip()


def _short(line: str) -> str:
    return line if len(line) <= LIMIT else f"{line[: LIMIT - 1]}…"


NEXT_STEPS = (
    (
        "could not resolve host",
        "Check the host name in the repository's URL, and this machine's network.",
    ),
    (
        "authentication failed",
        "Check the token Repobox uses for this host (GITLAB_TOKEN, GITHUB_TOKEN) and that "
        "it may read the repository.",
    ),
    (
        "repository not found",
        "Check the name; a private repository also looks like this to a token that cannot see it.",
    ),
    (
        "permission denied (publickey)",
        "The ssh key of the user running Repobox's workers was refused: add it to the host, "
        "or use an https URL.",
    ),
    (
        "host key verification failed",
        "The host's ssh key is not in known_hosts for the user running Repobox's workers.",
    ),
    (
        "does not appear to be a git repository",
        "Check the path or URL: it must name a git repository.",
    ),
)


def next_step(why: str) -> str | None:
    """What a person can do about `why` (a `reason`), when the cause is a known one."""
    lowered = why.lower()
    return next((step for cause, step in NEXT_STEPS if cause in lowered), None)
