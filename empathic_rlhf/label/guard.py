"""An ASGI middleware around the whole app: request-body limits per route, and security headers on every answer.

- Bodies: a label is a few hundred bytes (an edit at most ~80 KB of UTF-8); every other route takes none. A body
  over its route's limit is refused with 413 before it is read (by Content-Length) or as soon as the streamed
  bytes pass the limit, so a 200 MB POST costs nothing.
- Early answers: a route that answers before reading the whole body (401 without a token, /api/undo, which takes
  none) answers with ``Connection: close``, and the server closes the connection once the answer is out. Without
  that, uvicorn reads on and discards whatever the client keeps sending: a chunked body with no end was drained
  at ~300 MB/s per client. Closed, it stops after what the kernel buffers (a few MB).
- Headers: a Content-Security-Policy that allows only this origin's own script and style files (the pages have no
  inline script), no framing (clickjacking), ``nosniff``, no referrer, and ``no-store`` on everything that carries
  a token in its URL or answers with someone's data.
"""

from __future__ import annotations

import json

LABEL_BODY_LIMIT = 128 * 1024
OTHER_BODY_LIMIT = 1024
BODY_LIMITS = {("POST", "/api/labels"): LABEL_BODY_LIMIT,
               ("POST", "/api/chat/messages"): LABEL_BODY_LIMIT}  # a chat message: at most 20,000 characters

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"cross-origin-opener-policy", b"same-origin")]
PRIVATE_PREFIXES = ("/api/", "/join/", "/admin/", "/chat/")  # token in the URL or personal data in the answer


class BodyTooLarge(Exception):
    pass


class Guard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = BODY_LIMITS.get((scope["method"], scope["path"]), OTHER_BODY_LIMIT)
        request_headers = dict(scope["headers"])
        length = request_headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _too_large(send, limit)
        private = scope["path"].startswith(PRIVATE_PREFIXES)
        started = False
        seen = 0
        # a body is coming (a length over 0, or chunked) and the app has not read it to its end yet
        unread = (length is not None and length != b"0") or b"transfer-encoding" in request_headers

        async def limited_receive():
            nonlocal seen, unread
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
                if not message.get("more_body", False):
                    unread = False
            return message

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control" or not private]
                headers += HEADERS + ([(b"cache-control", b"no-store")] if private else [])
                if unread:  # answered early: close rather than drain what the client still sends
                    headers = [h for h in headers if h[0].lower() != b"connection"] + [(b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"detail": f"request body over {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *HEADERS]})
    await send({"type": "http.response.body", "body": body})
