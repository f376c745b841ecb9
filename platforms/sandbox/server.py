"""The HTTP server: parses requests, routes them to a platform, applies the behaviours."""

from __future__ import annotations

import contextlib
import email.message
import json
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from platforms.facebook.sandbox import GraphApi
from platforms.mastodon.sandbox import MastodonApi
from platforms.sandbox.control import control
from platforms.sandbox.core import (
    MAX_BODY,
    Answer,
    Incoming,
    Reply,
    RequestLog,
    Route,
    SandboxState,
    UploadedFile,
)
from platforms.sandbox.home import home_page, wants_home
from platforms.sms.sandbox import TwilioApi
from platforms.telegram.sandbox import TelegramApi
from platforms.webhook.sandbox import HooksApi
from platforms.x.sandbox import XApi

logger = logging.getLogger("platforms.sandbox")


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, list[str]], list[UploadedFile]]:
    header = email.message.Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("multipart body without a boundary")
    form: dict[str, list[str]] = {}
    files: list[UploadedFile] = []
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise ValueError("multipart body without parts")
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("multipart part without headers")
        part = email.message.Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            part[name.strip()] = value.strip()
        disposition = part.get("Content-Disposition", "")
        if not disposition:
            raise ValueError("multipart part without Content-Disposition")
        field_name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        if not isinstance(field_name, str):
            raise ValueError("multipart part without a name")
        if filename is not None:
            files.append(UploadedFile(field_name, str(filename), part.get_content_type(), content))
        else:
            form.setdefault(field_name, []).append(content.decode("utf-8", "replace"))
    return form, files


def _parse_body(request: Incoming) -> None:
    ctype = request.content_type
    try:
        if ctype == "application/json" and request.body:
            request.json = json.loads(request.body)
        elif ctype == "application/x-www-form-urlencoded":
            request.form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
        elif ctype == "multipart/form-data":
            request.form, request.files = _parse_multipart(request.body, request.header("Content-Type"))
    except (ValueError, UnicodeDecodeError) as exc:
        request.body_error = f"{type(exc).__name__}: {exc}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EngageSandbox/0.1"
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms delayed-ACK stalls
    timeout = 60  # an idle keep-alive connection is closed after this

    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    # --- reading -----------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    # --- writing -----------------------------------------------------------------------------------
    def _write(self, reply: Reply) -> None:
        if isinstance(reply.body, bytes):
            payload = reply.body
            content_type = "application/octet-stream" if payload and "Content-Type" not in reply.headers else ""
        elif reply.body is None:
            payload, content_type = b"", ""
        else:
            payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        self.send_response(reply.status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    def _drop(self) -> None:
        """Close the connection without a word: the client never learns the outcome."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # --- dispatch ----------------------------------------------------------------------------------
    def _handle(self) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except ValueError:
            self._write(Reply(413, {"error": "request too large"}))
            self.close_connection = True
            return
        request = Incoming(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            raw_query=url.query,
        )
        if url.path.startswith("/_sandbox/"):
            self._write(self.server.control(request))
            return
        if wants_home(request.method, url.path):
            self._write(home_page(self.server.state))  # for a person: what it imitates, what it received
            return
        _parse_body(request)
        route = self.server.route(request)
        if route is None:
            self._write(Reply(404, {"error": "not found", "path": url.path}))
            return
        api = self.server.apis[route.platform]
        behaviour = state.behaviour(route.platform)
        if behaviour.delay > 0:
            state.release.wait(behaviour.delay)
        applies = behaviour.applies_to == "all" or route.creates_post
        if applies and state.take(route.platform, "after"):
            applies = False  # this one goes through untouched
        if applies and state.take(route.platform, "fail"):
            reply, outcome = api.server_error(), "failed"
        elif applies and state.take(route.platform, "rate_limit"):
            reply, outcome = api.rate_limited(behaviour.retry_after), "rate_limited"
        else:
            try:
                if request.body_error:
                    raise Answer(Reply(400, {"error": "malformed body", "detail": request.body_error}))
                api.authorize(request)
                reply, outcome = route.handler(request), "answered"
            except Answer as answer:
                reply, outcome = answer.reply, answer.outcome
            except Exception:  # a bug in the sandbox must answer, not hang the client
                logger.exception("sandbox handler failed for %s %s", request.method, request.path)
                reply, outcome = Reply(500, {"error": "sandbox handler failed"}), "sandbox_error"
            if outcome == "answered" and applies:
                if state.take(route.platform, "drop"):
                    self._log(route, request, None, "dropped")
                    self._drop()
                    return
                if state.take(route.platform, "hang"):
                    self._log(route, request, None, "hung")
                    state.release.wait(behaviour.hang_seconds)
                    self._drop()
                    return
        self._log(route, request, reply.status, outcome)
        self._write(reply)

    def _log(self, route: Route, request: Incoming, status: int | None, outcome: str) -> None:
        self.server.state.log(
            RequestLog(
                platform=route.platform,
                op=route.op,
                method=request.method,
                path=request.path,
                status=status,
                outcome=outcome,
                headers=request.logged_headers(),
                fields=request.logged_fields(),
                files=tuple(request.files),
                at=time.time(),
                query=request.raw_query,
                body=request.body,
            )
        )


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        super().__init__(address, Handler)
        self.state = state
        self.apis: dict[str, Any] = {
            "mastodon": MastodonApi(state),
            "telegram": TelegramApi(state),
            "x": XApi(state),
            "facebook": GraphApi(state),
            "sms": TwilioApi(state),
            "webhook": HooksApi(state),
        }

    def route(self, request: Incoming) -> Route | None:
        for api in self.apis.values():
            route = api.route(request)
            if route is not None:
                return route
        return None

    def control(self, request: Incoming) -> Reply:
        return control(self.state, request)
