"""One acting rule on every surface: a forge commenter who linked that host for acting
ships as themselves; anyone else ships as the bot, named in the body with a
`Co-authored-by` line; REPOBOX_REQUIRE_LINKED refuses forge-started sessions with the link;
broken links (swapped ciphertext, revoked token) are said where the person asked."""

from __future__ import annotations

from redis import Redis

from bot.core.config import Settings
from bot.identity.people import Provider
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
