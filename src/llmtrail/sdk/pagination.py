"""Pages of a list route, and iterators that walk them lazily by their `next` links.

Links are followed as the server wrote them: they keep the query and carry the cursor
(`after`) that makes a deep page cost what the first costs. A list sent by POST (the log
list's filters ride in the body) sends its body again with each page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Generic, TypeVar

from llmtrail.sdk.models import Model

Item = TypeVar("Item", bound=Model)
Request = TypeVar("Request")  # what `send` makes a request of: a `resources.Call`


class Page(Model, Generic[Item]):
    """One page: `count` over all pages, `next`/`previous` as links (None at either end)."""

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[Item]


def items(first: Request, send: Callable[[Request, str | None], Page[Item]]) -> Iterator[Item]:
    """Every item of every page from `first` on; a page is fetched when it is reached."""
    url = None
    while True:
        page = send(first, url)
        yield from page.results
        if not page.next:
            return
        url = page.next


async def aitems(
    first: Request, send: Callable[[Request, str | None], Awaitable[Page[Item]]]
) -> AsyncIterator[Item]:
    """`items` for the async client."""
    url = None
    while True:
        page = await send(first, url)
        for item in page.results:
            yield item
        if not page.next:
            return
        url = page.next
