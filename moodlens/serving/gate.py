"""What every request passes before a route sees it: the Host check or the token, then for the API the
connection limit and the upload limits.

Without a token, only requests addressed to this machine by a loopback name (Host: localhost,
127.0.0.1, [::1], any port) are answered: a web page elsewhere that rebinds its own name to 127.0.0.1
(DNS rebinding) sends its own Host, and is refused. With a token, every route but the page and its
static files needs it, the API description (/docs, /openapi.json) and /api/health included.

A pure ASGI middleware, so that it sees WebSockets as well as HTTP and refuses a request before its
body is read: an oversized upload is turned away on its Content-Length, not after 100 MB arrived.
Every refusal is JSON `{"error": "..."}` with a 4xx status (503 when the server is full); a refused
WebSocket gets the same as an HTTP response to its handshake where the server supports that.
"""

import hmac
import ipaddress
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API = "/api/"
PAGE, STATIC = "/", "/static/"  # answered without a token: the page asks for it, then sends it
UNCOUNTED = ("/api/health",)  # outside the connection count: it says whether the server is up
WS_TRY_AGAIN_LATER = 1013  # WebSocket close code for a server too busy to take the connection
WS_POLICY_VIOLATION = 1008


class UploadTooLarge(HTTPException):
    """Raised while the body is read, when a body without Content-Length grows past the limit."""

    def __init__(self, limit: int):
        super().__init__(413, f"upload too large: more than {limit / 2**20:g} MiB")


class UploadTooSlow(HTTPException):
    def __init__(self, seconds: float):
        super().__init__(408, f"upload too slow: not complete within {seconds:g} s")


@dataclass
class GateSettings:
    token: str | None  # None: only requests addressed to this machine's loopback names are answered
    max_connections: int  # API requests in progress plus open WebSockets
    max_upload_bytes: int
    upload_timeout: float  # seconds for a whole request body to arrive


def request_token(scope: Scope) -> str | None:
    """`Authorization: Bearer <token>`, else the `token` query parameter (browsers cannot set headers on a
    WebSocket, a <video src> or a download link)."""
    authorization = header(scope, b"authorization") or ""
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


def header(scope: Scope, wanted: bytes) -> str | None:
    """A request header's value (`wanted` in lower case, as ASGI gives names), or None."""
    return next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == wanted), None)


def content_length(scope: Scope) -> int | None:
    try:
        return int(header(scope, b"content-length") or "")
    except ValueError:
        return None


def loopback_host(host: str) -> bool:
    """Whether a Host header names this machine by a loopback name or address, with or without a port."""
    name = host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0]  # [::1]:80, name:80
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    """Answer with `{"error": message}` and `status`, over HTTP or to a WebSocket's handshake."""
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if scope["type"] == "websocket":
        await receive()  # the client's websocket.connect
        if "websocket.http.response" not in scope.get("extensions", {}):
            code = WS_TRY_AGAIN_LATER if status == 503 else WS_POLICY_VIOLATION
            await send({"type": "websocket.close", "code": code})
            return
        start, chunk = "websocket.http.response.start", "websocket.http.response.body"
    else:
        headers.append((b"connection", b"close"))  # the unread body, if any, is not worth reading
        start, chunk = "http.response.start", "http.response.body"
    await send({"type": start, "status": status, "headers": headers})
    await send({"type": chunk, "body": body})


def public(path: str) -> bool:
    """The page and its static files: answered without a token (the page then sends the one in its address)."""
    return path == PAGE or path.startswith(STATIC)


def counted(path: str) -> bool:
    """API requests count against the connection and upload limits; the page, its files and the docs do not."""
    return path.startswith(API) and path not in UNCOUNTED


class Gate:
    """The ASGI middleware; `active` is the number of API requests and WebSockets in progress."""

    def __init__(self, app: ASGIApp, settings: GateSettings):
        self.app, self.settings = app, settings
        self.active = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self.problem(scope)
        if problem:
            await refuse(scope, receive, send, *problem)
            return
        if not counted(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        self.active += 1
        try:
            await self.app(scope, self.limited(receive) if scope["type"] == "http" else receive, send)
        finally:
            self.active -= 1

    def problem(self, scope: Scope) -> tuple[int, str] | None:
        """Why a request is refused before it starts (status, message), or None."""
        path, token = scope.get("path", ""), self.settings.token
        if token is None:
            host = header(scope, b"host") or ""
            if not loopback_host(host):
                return 400, (f"Host {host or '(none)'} is not this machine: without --token the server answers "
                             "only requests addressed to localhost, 127.0.0.1 or [::1]")
        elif not public(path) and not hmac.compare_digest((request_token(scope) or "").encode(), token.encode()):
            return 401, "missing or wrong token: send `Authorization: Bearer <token>` or ?token=<token>"
        if not counted(path):
            return None
        if self.active >= self.settings.max_connections:
            return 503, f"server busy: {self.settings.max_connections} connections in progress, try again shortly"
        size, limit = content_length(scope), self.settings.max_upload_bytes
        if size is not None and size > limit:
            return 413, f"upload too large: {size / 2**20:.1f} MiB, the limit is {limit / 2**20:g} MiB"
        return None

    def limited(self, receive: Receive) -> Receive:
        """`receive` that counts the body against the size limit and the whole body against the clock;
        once the body is in, it waits as long as the route likes (a download listens for a disconnect)."""
        deadline = time.monotonic() + self.settings.upload_timeout
        received, complete = 0, False

        async def receive_limited() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            try:
                with anyio.fail_after(max(deadline - time.monotonic(), 0)):
                    message = await receive()
            except TimeoutError:
                raise UploadTooSlow(self.settings.upload_timeout) from None
            received += len(message.get("body", b""))
            if received > self.settings.max_upload_bytes:
                raise UploadTooLarge(self.settings.max_upload_bytes)
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        return receive_limited
