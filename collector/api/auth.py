"""Bearer tokens: every route but /healthz and /readyz needs one, of the right kind."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="patrol"'}


async def authenticate(request: Request, kinds: tuple[str, ...]) -> Any:
    """The token record of the request, if it is valid and of one of ``kinds``; else 401/403."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "a bearer token is required (Authorization: Bearer <token>)", headers=CHALLENGE)
    record = await run_in_threadpool(request.app.state.store.authenticate, token.strip())
    if record is None:
        raise HTTPException(401, "the token is not valid (unknown or revoked)", headers=CHALLENGE)
    if record.kind not in kinds:
        raise HTTPException(403, f"a {record.kind} token may not use this route")
    return record
