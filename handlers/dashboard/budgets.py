"""The admins' Budgets page: every spending cap in force, with what it has counted this
period and when that resets, and a form to add, change or remove a cap.

Saving stores the whole set in Redis (`bot.sessions.caps`), which then wins over
REPOBOX_BUDGETS until an admin goes back to the variable. A cap is typed as in
REPOBOX_BUDGETS (`project:acme/api:500usd/month`); one for the same counter (scope, name,
unit, period) replaces the old, which is how a cap is changed. Every POST carries the
session's CSRF token (the sub-app's middleware checks it).

    GET  /dashboard/budgets
    POST /dashboard/budgets/add        form: rule
    POST /dashboard/budgets/remove     form: rule (as the page lists it)
    POST /dashboard/budgets/default    back to REPOBOX_BUDGETS
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from bot.core.budget_rules import parse_rule
from bot.core.errors import ConfigError
from bot.sessions import budgets, caps
from handlers.common.context import WebContext
from handlers.dashboard.auth.context import session
from handlers.dashboard.html import page
from handlers.dashboard.viewer import Viewer, said, signed_in, take_notice

PAGE = "/dashboard/budgets"
MAX_RULES = 100


@dataclass(frozen=True)
class Row:
    rule: str  # as typed: the remove button sends it back
    text: str  # "50 USD a day for each person"
    spent: list[tuple[str, str, int]]  # (whom, amount, percent of the cap)
    resets: str


def register(sub: web.Application, ctx: WebContext) -> None:
    sub[CONTEXT] = ctx
    sub.router.add_get("/budgets", show)
    sub.router.add_post("/budgets/add", add)
    sub.router.add_post("/budgets/remove", remove)
    sub.router.add_post("/budgets/default", use_default)


CONTEXT = web.AppKey("repobox.dashboard.budgets", WebContext)


async def _admin(request: web.Request) -> Viewer:
    viewer = await signed_in(request)
    if not viewer.admin:
        raise web.HTTPForbidden(text="Only admins (REPOBOX_ADMINS) see this page.")
    return viewer


async def show(request: web.Request, *, error: str = "", typed: str = "") -> web.Response:
    viewer = await _admin(request)
    ctx = request.app[CONTEXT]
    found = await caps.current(ctx.aredis, ctx.settings.budgets)
    now = datetime.now(UTC)
    rows = []
    for rule in found.rules:
        spent = [
            (whom, budgets.amount_text(value, rule.unit), min(100, int(value * 100 / rule.limit)))
            for whom, value in (await budgets.spent_now(ctx.aredis, rule, now))[:20]
        ]
        resets = budgets.when_text(budgets.resets_at(rule.period, now))
        rows.append(Row(caps.rule_text(rule), rule.text, spent, resets))
    return page(
        "budgets.html",
        status=400 if error else 200,
        viewer=viewer,
        csrf=session(request).csrf,
        rows=rows,
        set_by=found.set_by,
        stored=found.stored,
        message=take_notice(request),
        error=error,
        typed=typed,
    )


async def add(request: web.Request) -> web.Response:
    viewer = await _admin(request)
    ctx = request.app[CONTEXT]
    typed = str((await request.post()).get("rule", "")).strip()[:300]
    try:
        rule = parse_rule(typed)
    except ConfigError as bad:
        why = str(bad).removeprefix("REPOBOX_BUDGETS: ")
        return await show(request, error=why, typed=typed)
    found = await caps.current(ctx.aredis, ctx.settings.budgets)
    kept = tuple(r for r in found.rules if not caps.same_cap(r, rule))
    if len(kept) >= MAX_RULES:
        return await show(request, error=f"At most {MAX_RULES} caps.", typed=typed)
    await caps.save(ctx.aredis, (*kept, rule), viewer.account.display_name)
    changed = "Changed" if len(kept) < len(found.rules) else "Added"
    return said(request, PAGE, f"{changed} the cap: {rule.text}.")


async def remove(request: web.Request) -> web.Response:
    viewer = await _admin(request)
    ctx = request.app[CONTEXT]
    typed = str((await request.post()).get("rule", ""))[:300]
    found = await caps.current(ctx.aredis, ctx.settings.budgets)
    kept = tuple(r for r in found.rules if caps.rule_text(r) != typed)
    if len(kept) == len(found.rules):
        return said(request, PAGE, "That cap was already gone.")
    await caps.save(ctx.aredis, kept, viewer.account.display_name)
    return said(request, PAGE, f"Removed the cap {typed}.")


async def use_default(request: web.Request) -> web.Response:
    await _admin(request)
    await caps.forget(request.app[CONTEXT].aredis)
    return said(request, PAGE, "The caps are REPOBOX_BUDGETS' again.")
