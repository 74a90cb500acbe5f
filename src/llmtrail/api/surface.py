"""An API surface: a router with its authentication, its error shape and its middleware.

Each surface (the Keywords AI dialect, the Humanloop one, and those to come) builds one of
these and declares its routes on `surface.router`; `api.app` only mounts the surfaces that
`llmtrail.plugins` lists. The surface's routes answer their own errors: its route classes
catch what an endpoint (or its validation, or its authentication) raises and render it in
the surface's shape, so no error handler has to guess a request's dialect from its URL.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import Match, get_route_path
from starlette.types import Scope

from llmtrail.api.auth import writes
from llmtrail.api.backend import Backend
from llmtrail.api.direct import DirectRoute
from llmtrail.api.errors import ErrorShape, render
from llmtrail.api.responses import Detail, failures
from llmtrail.api.routing import OrjsonRoute


class _Answering(APIRoute):
    """Renders what the endpoint raises in its surface's error shape.

    Answers are built as plain data or JSON bodies, never run through a response model (a
    20,000-span trace would spend seconds there); every route documents its bodies, per
    status, in `responses=`, and `tests/api/test_response_models.py` holds the answers to them.

    `writes` (from the method, `auth.writes`) is what `auth.principal` reads to refuse a
    viewer; on a surface that authenticates (`gated`), such a route documents that 403, and
    every route the 429 of a caller past its rate and the 503 of a database that is away.
    """

    shape: ErrorShape
    gated: bool

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model"] = None  # not inferred from the endpoint's annotation either
        self.writes = writes(kwargs.get("methods") or (), endpoint)
        if self.gated:  # 429 once LLMTRAIL_RATE_LIMIT_PER_SECOND is set, 403 for a viewer,
            # 503 while the database (or the writer process) is not answering
            refusals = (429, 503, 403) if self.writes else (429, 503)
            kwargs["responses"] = {
                **failures({403: Detail, 429: Detail, 503: Detail}, *refusals),
                **(kwargs.get("responses") or {}),
            }
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        shape = self.shape

        async def answering(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                response = render(shape.for_request(request), exc)
                if response is None:
                    raise
                return response

        return answering


class _RootedRouter(APIRouter):
    """A surface's router, which refuses at once a path whose first segment none of its
    routes has (`api`, `v5`, `v1`). FastAPI tries an included router's routes one by one,
    each through a context of its own, and then again to handle the one it found: a
    Humanloop log went past every Keywords AI surface's routes that way (0.27 ms a request,
    in-process on an idle machine, more than the route's own work)."""

    roots: frozenset[str] | None = None  # None: no gate (a route's first segment varies)

    def root(self) -> None:
        """Learn the routes' first segments; call once every route is added."""
        roots = frozenset(_first_segment(getattr(route, "path", "")) for route in self.routes)
        self.roots = None if any("{" in root for root in roots) else roots

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.roots is not None and _first_segment(get_route_path(scope)) not in self.roots:
            return Match.NONE, {}
        return super().matches(scope)


def _first_segment(path: str) -> str:
    return path.split("/", 2)[1] if path.startswith("/") else ""


class Surface:
    def __init__(
        self,
        name: str,
        *,
        errors: ErrorShape,
        auth: Callable[..., Any] | None,
        security: dict[str, dict[str, Any]] | None = None,
        prefix: str = "",
        middleware: Sequence[type] = (),
        responses: dict[int | str, dict[str, Any]] | None = None,
        validation_status: int = 422,
        reads_bodies: bool = False,
        service: Callable[[Backend], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        """`auth` is a dependency every route of the surface runs (None: open routes);
        `security` the OpenAPI schemes it accepts, any one of them; `responses` the error
        answers every route may give; `validation_status` the status its shape gives a
        request that does not validate (FastAPI documents 422 for every route with input);
        `reads_bodies` that its routes read their bodies under a limit of their own, and
        answer 413 in their shape, instead of the server's `BodySizeLimit`; `service` what
        else it serves while the server runs, on its event loop (the OTLP/gRPC receiver)."""
        self.name = name
        self.reads_bodies = reads_bodies
        self.service = service
        self.security = security or {}
        self.validation_status = validation_status
        self.middleware = tuple(middleware)
        attrs = {"shape": errors, "gated": auth is not None}
        self.route_class = type(f"{name}Route", (_Answering, OrjsonRoute), attrs)
        self.direct_route_class = type(f"{name}DirectRoute", (_Answering, DirectRoute), attrs)
        self.router = _RootedRouter(
            prefix=prefix,
            tags=[name],
            route_class=self.route_class,
            dependencies=[Depends(auth)] if auth is not None else [],
            responses=responses,
        )

    def ingest(self, path: str, **kwargs: Any) -> Callable[[Callable], Callable]:
        """`@router.post(path, ...)` as a `DirectRoute`: the hot ingest endpoints."""

        def register(endpoint: Callable) -> Callable:
            self.router.add_api_route(
                path,
                endpoint,
                methods=["POST"],
                route_class_override=self.direct_route_class,
                **kwargs,
            )
            return endpoint

        return register

    def mount(self, app: FastAPI) -> None:
        """Include the router, rooted where its routes are (they are all added by now)."""
        self.router.root()
        app.include_router(self.router)

    @property
    def paths(self) -> set[str]:
        return {route.path for route in self.router.routes if isinstance(route, APIRoute)}

    def document(self, spec: dict[str, Any]) -> None:
        """List the surface's security schemes on each of its operations (either one), and
        drop FastAPI's 422 where the surface answers bad input otherwise (a 422 the route
        declares itself stays)."""
        if self.security:
            schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes.update(self.security)
        security = [{name: []} for name in self.security]
        for route in self.router.routes:
            if not (isinstance(route, APIRoute) and route.include_in_schema):
                continue
            for method in route.methods:
                operation = spec["paths"][route.path_format][method.lower()]
                if security and "security" not in (route.openapi_extra or {}):
                    operation["security"] = security  # unless the route names its own
                if self.validation_status != 422 and 422 not in route.responses:
                    operation["responses"].pop("422", None)
