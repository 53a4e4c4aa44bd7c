"""Renders the web pages from Jinja2 templates, every value escaped by default.

One environment for every surface's pages, so the dashboard, the account pages and the live
session page share `base.html`, its stylesheet and its icons. Each package adds its own
template folder with `template_dirs`; `ui/` comes last, so a page can extend `base.html`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from handlers.common.ui.text import ago, prose, utc

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_URL = "/ui/static"  # served by handlers/web.py; every page's stylesheet and icons


@cache
def environment(template_dirs: tuple[Path, ...] = ()) -> Environment:
    env = Environment(
        loader=FileSystemLoader([*map(str, template_dirs), str(HERE / "templates")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a missing value is a bug in the page, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = STATIC_URL
    env.filters.update(prose=prose, ago=ago, utc=utc)
    return env


def render(name: str, template_dirs: Sequence[Path] = (), **values: Any) -> str:
    return environment(tuple(template_dirs)).get_template(name).render(**values)
