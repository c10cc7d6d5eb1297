"""Reading a request body under a size limit, gzip included, before anything parses it.

The limit applies to the bytes on the wire and again to the decompressed bytes, so neither a huge
upload nor a small gzip bomb gets past it.
"""

from __future__ import annotations

import zlib

from fastapi import HTTPException, Request

GZIP_WBITS = 16 + zlib.MAX_WBITS


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body of {declared} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise HTTPException(415, f"unsupported Content-Encoding {encoding!r}: expected gzip or identity")
    return gunzip(body, limit)


def gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(GZIP_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise HTTPException(400, f"the gzip body cannot be decompressed: {exc}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise HTTPException(413, f"decompressed body is over the limit of {limit} bytes")
    if not inflater.eof:
        raise HTTPException(400, "the gzip body is truncated")
    return data


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(415, f"unsupported Content-Type {content_type or '(none)'!r}: expected application/json")
