"""The HTTP ceiling: a FastAPI route that reads the request and answers, with nothing behind."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

app = FastAPI()


@app.api_route("/{path:path}", methods=["GET", "POST", "PATCH"])
async def empty(request: Request) -> Response:
    await request.body()
    return Response(b"{}", status_code=201, media_type="application/json")
