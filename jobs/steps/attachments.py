"""A prompt's attachments, fetched by the job before the agent runs (never by the web
process) into the workdir's private scratch folder: Slack files from Slack's own file
host with the bot token; images in a GitHub comment (and the issue or pull request body,
for a session's first prompt) from GitHub's own uploads with the GitHub token; images in a
GitLab note (or description) that are the project's own uploads, through GitLab's API on
GITLAB_URL with the GitLab token. Any other URL is never requested. What is not attached
is named in a warning step in the thread."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from redis.exceptions import RedisError

from bot.agents.attachments import Attachment, Wanted, fetch_all, scratch_folder
from bot.core.config import Settings
from bot.identity.oauth import github_web_url
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.origin import ForgeOrigin, SlackOrigin
from bot.sessions.prompts import Prompt
from bot.sessions.session import Session
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)
SLACK_FILES = "https://files.slack.com"
# Where github.com's image URLs redirect to: signed, short-lived, asked without the token.
GITHUB_STORAGE = frozenset(
    {
        "https://private-user-images.githubusercontent.com",
        "https://objects.githubusercontent.com",
        "https://github-production-user-asset-6210df.s3.amazonaws.com",
    }
)
GITHUB_UPLOAD = re.compile(r"/(?:user-attachments/assets|[^/]+/[^/]+/assets)/[\w.-]+")
MARKDOWN_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# GitLab's Markdown link to a project upload: `/uploads/<secret>/<file>` (relative to the
# project) or the same under `<GITLAB_URL>/<group>/<project>`.
GITLAB_UPLOAD = re.compile(r"/uploads/([0-9a-fA-F]{16,64})/([^/?#]+)")
HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>", re.IGNORECASE)


def slack_file_hosts(settings: Settings) -> frozenset[str]:
    """Slack's file host, and the origin of the Slack API Repobox talks to (a test's fake)."""
    api = urlsplit(settings.slack_api_url)
    return frozenset({SLACK_FILES, f"{api.scheme}://{api.netloc}".lower()})


def image_links(text: str) -> list[tuple[str, str]]:
    """(alt text, URL) of every image in Markdown or HTML, in order, each URL once."""
    found = [(m.start(), m.group(1), m.group(2)) for m in MARKDOWN_IMAGE.finditer(text)]
    found += [(m.start(), "", m.group(1)) for m in HTML_IMAGE.finditer(text)]
    seen: dict[str, str] = {}
    for _, alt, url in sorted(found):
        seen.setdefault(url, alt)
    return [(alt, url) for url, alt in seen.items()]


def github_images(
    settings: Settings, session: Session, prompt: Prompt
) -> tuple[list[Wanted], list[str]]:
    """The GitHub uploads among the images of the comment (and, for the first prompt, the
    issue or pull request body); a note naming each other image, which is not fetched."""
    if not isinstance(prompt.origin, ForgeOrigin) or session.provider != "github":
        return [], []
    texts = [prompt.origin.comment.body]
    if prompt.seq == 1 and session.context is not None:
        texts.insert(0, session.context.body)
    web = github_web_url(settings.github_api_url).lower()
    wanted: list[Wanted] = []
    notes: list[str] = []
    for alt, url in image_links("\n".join(texts)):
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}".lower() == web and GITHUB_UPLOAD.fullmatch(
            parts.path
        ):
            name = alt.strip() or parts.path.rsplit("/", 1)[-1]
            wanted.append(Wanted(name, url))
        else:
            notes.append(f"not fetched: {url}: images are fetched only from GitHub's uploads")
    return wanted, notes


def gitlab_images(
    settings: Settings, session: Session, prompt: Prompt
) -> tuple[list[Wanted], list[str]]:
    """The project's own uploads among the images of the note (and, for the first prompt,
    the description), each to be fetched through the API: GitLab's web upload URLs take
    only a browser's cookie, `GET /projects/:id/uploads/:secret/:filename` takes a token
    (GitLab 17.4+). A note naming each other image, which is not fetched."""
    if not isinstance(prompt.origin, ForgeOrigin) or session.provider != "gitlab":
        return [], []
    if not settings.gitlab_url:
        return [], []
    texts = [prompt.origin.comment.body]
    if prompt.seq == 1 and session.context is not None:
        texts.insert(0, session.context.body)
    base = settings.gitlab_url.rstrip("/")
    under = f"{base}/{session.project}".lower()
    api = f"{base}/api/v4/projects/{quote(session.project, safe='')}/uploads"
    wanted: list[Wanted] = []
    notes: list[str] = []
    for alt, url in image_links("\n".join(texts)):
        path = url if url.startswith("/uploads/") else ""
        if url.lower().startswith(under + "/uploads/"):
            path = url[len(under) :]
        found = GITLAB_UPLOAD.fullmatch(path) if path else None
        if found is None or not unquote(found.group(2)).strip("."):
            notes.append(f"not fetched: {url}: images are fetched only from the project's uploads")
            continue
        secret, filename = found.group(1), unquote(found.group(2))
        name = alt.strip() or filename
        wanted.append(Wanted(name, f"{api}/{secret}/{quote(filename, safe='')}"))
    return wanted, notes


def _forge_images(
    settings: Settings, session: Session, prompt: Prompt
) -> tuple[list[Wanted], list[str], str | None, frozenset[str], frozenset[str]]:
    """(wanted, notes, token, hosts asked with it, redirect hosts) for a forge comment."""
    if session.provider == "gitlab":
        wanted, notes = gitlab_images(settings, session, prompt)
        host = urlsplit(settings.gitlab_url or "")
        origin = f"{host.scheme}://{host.netloc}".lower()
        return wanted, notes, settings.gitlab_token, frozenset({origin}), frozenset()
    wanted, notes = github_images(settings, session, prompt)
    hosts = frozenset({github_web_url(settings.github_api_url).lower()})
    return wanted, notes, settings.github_token, hosts, GITHUB_STORAGE


def prompt_attachments(
    ctx: JobContext, session: Session, prompt: Prompt, workdir: Path
) -> tuple[Attachment, ...]:
    settings = ctx.settings
    origin = prompt.origin
    notes: list[str] = []
    if isinstance(origin, SlackOrigin) and origin.files:
        wanted = [Wanted(f.name, f.url, f.size, f.mimetype) for f in origin.files]
        token, hosts = settings.slack_bot_token, slack_file_hosts(settings)
        follow: frozenset[str] = frozenset()
    else:
        wanted, notes, token, hosts, follow = _forge_images(settings, session, prompt)
    if not wanted and not notes:
        return ()
    stream = ProgressStream(ctx.redis, session.id)
    folder = scratch_folder(workdir) if wanted else None
    got: list[Attachment] = []
    if wanted and (folder is None or not token):
        notes.append("the attached files could not be read here")
    elif wanted and folder is not None and token:
        got, more = fetch_all(wanted, token=token, hosts=hosts, folder=folder, follow=follow)
        notes += more
    for note in notes:
        _say(stream, prompt.id, EventKind.WARNING, f"⚠️ {note}")
    if got:
        names = ", ".join(a.name for a in got)
        _say(stream, prompt.id, EventKind.INFO, f"📎 attached {names}")
    return tuple(got)


def _say(stream: ProgressStream, prompt_id: str, kind: EventKind, text: str) -> None:
    try:
        stream.emit(kind, text, prompt_id)
    except RedisError:
        log.warning("an attachment note for %s was dropped: Redis refused the write", prompt_id)
