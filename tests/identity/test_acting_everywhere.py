"""One acting rule on every surface: a forge commenter who linked that host for acting
ships as themselves; anyone else ships as the bot, named in the body with a
`Co-authored-by` line; REPOBOX_REQUIRE_LINKED refuses forge-started sessions with the link;
broken links (swapped ciphertext, revoked token) are said where the person asked."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from redis import Redis

from bot.core.config import Settings
from bot.core.redisio import run_async
from bot.doctor.checks import check_links
from bot.identity.people import Provider
from bot.identity.signin_links import issue
from handlers.cli.login import operator_link
from tests.identity.forge_support import REPO, Hub, Lab, hub, lab, link, origin, swap_sealed

__all__ = ["hub", "lab", "origin"]  # fixtures

ALICE_GH = "ghp_alicealicealicealice1234"
BOB_GH = "ghp_bobbobbobbobbobbobbob5678"
ALICE_GL = "glpat-alicealicealice9876"


def _work(hub: Hub, user: str = "alice") -> int:
    issue = hub.fake.add_issue(REPO, "Add notes", "Please.", user=user)
    hub.comment(issue.number, "@repobox write notes.txt: hello", user=user)
    return issue.number


def test_a_linked_persons_ship_it_on_a_github_issue_opens_the_pull_request_as_them(
    hub: Hub, settings: Settings, redis: Redis
) -> None:
    hub.fake.add_user("alice", token=ALICE_GH)
    link(settings, redis, Provider.GITHUB, "alice", ALICE_GH, ("repo",))
    number = _work(hub)
    hub.comment(number, "@repobox ship it")
    [pull] = hub.fake.pulls(REPO)
    assert pull.user == "alice"
    assert "Acting as you (alice on GitHub)." in hub.said(number)
    assert ALICE_GH not in hub.said(number)


def test_an_unlinked_persons_ship_it_is_the_bots_with_them_as_co_author(hub: Hub) -> None:
    number = _work(hub)
    hub.comment(number, "@repobox ship it")
    [pull] = hub.fake.pulls(REPO)
    assert pull.user == hub.fake.login
    body = pull.body or ""
    assert "Repobox acted as the bot for **alice**: alice has not linked a GitHub account" in body
    assert "\nCo-authored-by: alice <" in body


def test_the_asker_not_the_starter_is_who_ships(hub: Hub, settings: Settings, redis: Redis) -> None:
    hub.fake.add_user("bob", token=BOB_GH)
    link(settings, redis, Provider.GITHUB, "bob", BOB_GH, ("repo",))
    number = _work(hub, user="alice")  # alice started it, unlinked
    hub.comment(number, "@repobox ship it", user="bob")
    [pull] = hub.fake.pulls(REPO)
    assert pull.user == "bob"


def test_act_as_bot_ships_as_the_bot_even_for_the_linked(
    settings: Settings, redis: Redis, origin: object
) -> None:
    from pathlib import Path

    from tests.identity.forge_support import hub_with

    for bot_hub in hub_with(settings.with_changes(act_as="bot"), redis, Path(str(origin))):
        bot_hub.fake.add_user("alice", token=ALICE_GH)
        link(settings, redis, Provider.GITHUB, "alice", ALICE_GH, ("repo",))
        number = _work(bot_hub)
        bot_hub.comment(number, "@repobox ship it")
        [pull] = bot_hub.fake.pulls(REPO)
        assert pull.user == bot_hub.fake.login
        assert "REPOBOX_ACT_AS=bot" in bot_hub.said(number)


def test_a_linked_persons_ship_it_on_gitlab_opens_the_merge_request_as_them(
    lab: Lab, settings: Settings, redis: Redis
) -> None:
    link(settings, redis, Provider.GITLAB, "alice", ALICE_GL, ("api",))
    issue = lab.fake.add_issue(lab.project, "Add notes", "Please.", author="alice")
    lab.comment("issue", issue.iid, "@repobox write notes.txt: hello")
    lab.comment("issue", issue.iid, "@repobox ship it")
    [mr] = lab.fake.merge_requests(lab.project)
    [alice] = [u for u in lab.fake.users.values() if u.username == "alice"]
    assert mr.author_id == alice.id
    assert "Acting as you (alice on GitLab)." in lab.said("issue", issue.iid)


def test_an_unlinked_persons_ship_it_on_gitlab_is_the_bots(lab: Lab) -> None:
    issue = lab.fake.add_issue(lab.project, "Add notes", "Please.", author="alice")
    lab.comment("issue", issue.iid, "@repobox write notes.txt: hello")
    lab.comment("issue", issue.iid, "@repobox ship it")
    [mr] = lab.fake.merge_requests(lab.project)
    assert mr.author_id == lab.fake.bot.id
    assert "Co-authored-by: Alice Liddell <alice@example.com>" in mr.description


def test_require_linked_refuses_a_forge_session_in_the_comment_with_the_link(
    settings: Settings, redis: Redis, origin: object
) -> None:
    from pathlib import Path

    from tests.identity.forge_support import hub_with

    for strict in hub_with(settings.with_changes(require_linked=True), redis, Path(str(origin))):
        issue = strict.fake.add_issue(REPO, "Add notes", "Please.", user="alice")
        strict.comment(issue.number, "@repobox write notes.txt: hello")
        said = strict.said(issue.number)
        assert "link your GitHub account for acting first" in said
        assert "http://repobox.test/account/settings" in said
        assert strict.fake.pulls(REPO) == []


def _browser(hub: Hub, link: str) -> requests.Session:
    browser = requests.Session()
    browser.get(hub.app.url + urlsplit(link).path, timeout=10)
    return browser


def test_a_ciphertext_swapped_between_two_people_is_said_where_they_asked_and_listed(
    hub: Hub, settings: Settings, redis: Redis
) -> None:
    hub.fake.add_user("alice", token=ALICE_GH)
    hub.fake.add_user("bob", token=BOB_GH)
    alice = link(settings, redis, Provider.GITHUB, "alice", ALICE_GH, ("repo",))
    bob = link(settings, redis, Provider.GITHUB, "bob", BOB_GH, ("repo",))
    swap_sealed(redis, alice, bob, Provider.GITHUB)

    number = _work(hub)
    hub.comment(number, "@repobox ship it")
    [pull] = hub.fake.pulls(REPO)
    assert pull.user == hub.fake.login  # never as bob, whose token alice's record now holds
    said = hub.said(number)
    assert "Acting as the bot because your GitHub link is broken (it no longer decrypts)" in said
    assert "http://repobox.test/account/settings" in said
    assert "alice's GitHub link is broken (it no longer decrypts)" in (pull.body or "")

    mine = _browser(hub, run_async(redis, lambda r: issue(settings, r, alice)))
    page = mine.get(f"{hub.app.url}/account/settings", timeout=10).text
    assert "Broken:" in page and "it no longer decrypts" in page
    admin = _browser(hub, operator_link(settings, redis))
    health = admin.get(f"{hub.app.url}/dashboard/health", timeout=10).text
    assert "1 broken" in health and "Alice (GitHub: it no longer decrypts)" in health
    assert ALICE_GH not in health + page + said and BOB_GH not in health + page + said


def test_a_revoked_token_is_marked_broken_and_linking_again_clears_it(
    hub: Hub, settings: Settings, redis: Redis
) -> None:
    revoked = "ghp_revokedrevokedrevoked0000"  # GitHub knows it no more: 401
    alice = link(settings, redis, Provider.GITHUB, "alice", revoked, ("repo",))
    number = _work(hub)
    hub.comment(number, "@repobox ship it")
    [pull] = hub.fake.pulls(REPO)
    assert pull.user == hub.fake.login
    assert (
        "Acting as the bot because your GitHub link is broken "
        "(GitHub no longer accepts the token (revoked or expired))"
    ) in hub.said(number)
    assert "GitHub: GitHub no longer accepts the token" in check_links(redis).detail

    hub.fake.add_user("alice", token=ALICE_GH)
    assert link(settings, redis, Provider.GITHUB, "alice", ALICE_GH, ("repo",)) == alice
    assert check_links(redis).detail == "none found broken"


def test_whoami_says_which_identity_the_next_write_uses_and_why(
    hub: Hub, settings: Settings, redis: Redis
) -> None:
    hub.fake.add_user("bob", token=BOB_GH)
    link(settings, redis, Provider.GITHUB, "bob", BOB_GH, ("repo",))
    number = _work(hub)
    hub.comment(number, "@repobox whoami", user="alice")
    hub.comment(number, "@repobox whoami", user="bob")
    said = hub.said(number)
    assert (
        "Your next write here acts as the bot: you have not linked your GitHub account for acting"
    ) in said
    assert "Your next write here acts as you (bob on GitHub)." in said
