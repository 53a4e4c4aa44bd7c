"""Error answers as pages in the one look, not bare text: a refused form, a session that is
not yours, a page that does not exist. The words come from whoever refused."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from handlers.dashboard.html import page

TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
}


def error_page(status: int, message: str) -> web.Response:
    return page(
        "error.html",
        status=status,
        code=status,
        heading=TITLES.get(status, "Something went wrong"),
        message=message,
    )


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An `HTTPException` with plain text (4xx) becomes the same words on a page."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or error.status >= 500 or error.content_type != "text/plain":
            raise
        text = error.text or ""
        if text.startswith(f"{error.status}:"):  # aiohttp's default "404: Not Found"
            text = "There is nothing at this address."
        answer = error_page(error.status, text)
        if "Allow" in error.headers:
            answer.headers["Allow"] = error.headers["Allow"]
        return answer
