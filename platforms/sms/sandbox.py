"""Twilio Messages API (2010-04-01): create, fetch and delete messages, fetch the account.

Rules from Twilio's own specification, ``twilio/twilio-oai`` ``spec/json/twilio_api_v2010.json``
(commit d50069b, API 2010-04-01; tests/contracts/twilio_messages.json keeps CreateMessage,
ListMessage and FetchAccount): the form-encoded CreateMessage with ``To`` required and ``From`` or
``MessagingServiceSid``; ``Body`` "can be up to 1,600 characters in length", so a longer one is
refused with Twilio's error 21617 (counted in characters, as Twilio says); errors in Twilio's
shape (``code``, ``message``, ``more_info``, ``status``).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote

from platforms.sandbox.core import (
    Answer,
    Incoming,
    Reply,
    Route,
    SandboxState,
    new_record,
)
from platforms.sms.counting import sms_segments


class TwilioApi:
    platform = "sms"
    E164 = re.compile(r"\+[1-9]\d{6,14}")
    # Twilio's documented test numbers: invalid, and unsubscribed / blocked.
    INVALID_NUMBERS = frozenset({"+15005550001"})
    UNSUBSCRIBED_NUMBERS = frozenset({"+15005550004"})
    MAX_BODY = 1600  # CreateMessage Body: "Can be up to 1,600 characters in length"

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def route(self, request: Incoming) -> Route | None:
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+?)(/.*)?", request.path)
        if not match:
            return None
        rest = match.group(2) or ""
        method = request.method
        if rest == "" and request.path.endswith(".json") and method == "GET":
            return Route(self.platform, "account", self.account)
        if rest == "/Messages.json" and method == "POST":
            return Route(self.platform, "message", self.create_message, creates_post=True)
        if rest == "/Messages.json" and method == "GET":
            return Route(self.platform, "list_messages", self.list_messages)
        if sid_match := re.fullmatch(r"/Messages/(SM[0-9a-f]{32})\.json", rest):
            sid = sid_match.group(1)
            if method == "GET":
                return Route(self.platform, "get_message", lambda r: self.get_message(r, sid))
            if method == "DELETE":
                return Route(self.platform, "delete_message", lambda r: self.delete_message(r, sid))
        return Route(
            self.platform,
            "unknown",
            lambda r: self.error(404, 20404, f"The requested resource {r.path} was not found"),
        )

    @staticmethod
    def error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return Reply(status, body, headers or {})

    def authorize(self, request: Incoming) -> None:
        refused = Answer(
            self.error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'}),
            "auth_refused",
        )
        scheme, _, encoded = request.header("Authorization").partition(" ")
        if scheme.lower() != "basic":
            raise refused
        try:
            username, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise refused from None
        path_sid = request.path.split("/")[3].removesuffix(".json")
        if not password or self.state.accounts.twilio.get(username) != password:
            raise refused
        if path_sid != username or self.state.behaviour(self.platform).auth_expired:
            raise refused

    def server_error(self) -> Reply:
        return self.error(500, 20500, "An internal server error has occurred")

    def rate_limited(self, retry_after: int) -> Reply:
        return self.error(429, 20429, "Too Many Requests")

    def account(self, request: Incoming) -> Reply:
        sid = request.path.split("/")[3].removesuffix(".json")
        return Reply(200, {"sid": sid, "friendly_name": "Engage Sandbox", "status": "active", "type": "Full"})

    def create_message(self, request: Incoming) -> Reply:
        if request.content_type != "application/x-www-form-urlencoded":
            raise Answer(self.error(400, 21602, "Message body is required."))
        to = request.param("To") or ""
        sender = request.param("From") or ""
        service = request.param("MessagingServiceSid") or ""
        body = request.param("Body") or ""
        if not to:
            raise Answer(self.error(400, 21604, "A 'To' phone number is required."))
        if not self.E164.fullmatch(to) or to in self.INVALID_NUMBERS:
            raise Answer(self.error(400, 21211, f"Invalid 'To' Phone Number: {to}"))
        if not sender and not service:
            raise Answer(self.error(400, 21603, "A 'From' phone number is required."))
        if sender and sender not in self.state.accounts.twilio_numbers:
            raise Answer(
                self.error(
                    400,
                    21606,
                    f"The From phone number {sender} is not a valid, SMS-capable "
                    "inbound phone number or short code for your account.",
                )
            )
        if not body.strip() and not request.param("MediaUrl"):
            raise Answer(self.error(400, 21602, "Message body is required."))
        if len(body) > self.MAX_BODY:
            raise Answer(
                self.error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
            )
        if to in self.UNSUBSCRIBED_NUMBERS:
            raise Answer(self.error(400, 21610, "Attempt to send to unsubscribed recipient"))
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC), usegmt=True).replace("GMT", "+0000")
        account = request.path.split("/")[3]
        data = {
            "sid": sid,
            "account_sid": account,
            "to": to,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "body": body,
            "status": "queued",
            "num_segments": str(sms_segments(body)),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }
        new_record(self.state, self.platform, "message", request, sid, is_post=True, data=data)
        return Reply(201, data)

    # ListMessage's query parameters (twilio_api_v2010.json); Twilio ignores others.
    LIST_PARAMS = frozenset({"To", "From", "DateSent", "DateSent<", "DateSent>", "PageSize", "Page", "PageToken"})

    def list_messages(self, request: Incoming) -> Reply:
        """``GET .../Messages.json`` (ListMessage): the account's messages, newest first, filtered by
        ``To``, ``From`` and ``DateSent`` / ``DateSent<`` / ``DateSent>`` (a ``YYYY-MM-DD`` GMT date:
        that day, on or before it, on or after it; or a date-time, as Twilio's helper libraries send
        it), ``PageSize`` 1 to 1000 (default 50), paged by ``next_page_uri`` (``Page`` and
        ``PageToken``). The sandbox hands every message to the carrier at once: listed, a message
        is ``sent`` with ``date_sent`` set. Unknown parameters are ignored, as Twilio does, and named
        in ``X-Sandbox-Ignored-Params``."""
        account = request.path.split("/")[3]
        try:
            size = int(request.param("PageSize") or 50)
            number = int(request.param("Page") or 0)
        except ValueError:
            raise Answer(self.error(400, 20001, "Invalid paging parameter")) from None
        if not 1 <= size <= 1000 or number < 0:
            raise Answer(self.error(400, 20001, "Invalid paging parameter"))
        bounds = []
        for name, compare in (("DateSent", "day"), ("DateSent>", "after"), ("DateSent<", "before")):
            value = request.param(name)
            if value is None:
                continue
            moment = _twilio_date(value)
            if moment is None:
                raise Answer(self.error(400, 20001, f"Invalid {name}"))
            bounds.append((compare, *moment))
        to, sender = request.param("To"), request.param("From")
        chosen = []
        with self.state.lock:
            for record in sorted(self.state.posts(self.platform), key=lambda r: r.created_at, reverse=True):
                data = record.data
                if data.get("account_sid") != account or (to and data["to"] != to) or (
                        sender and data.get("from") != sender):
                    continue
                if not all(_within(record.created_at, *bound) for bound in bounds):
                    continue
                created = _rfc2822(record.created_at)  # the record's time (the sandbox may age it)
                if data.get("date_sent") is None:  # handed to the carrier at once
                    data["status"] = "sent"
                data.update(date_created=created, date_updated=created, date_sent=created)
                chosen.append(dict(data))
        start = number * size
        page = chosen[start : start + size]
        base = f"/2010-04-01/Accounts/{account}/Messages.json"
        kept = [(k, v) for k, v in request.query.items() if k in self.LIST_PARAMS - {"Page", "PageToken", "PageSize"}]
        filters = "".join(f"&{quote(k, safe='')}={quote(v[0], safe='')}" for k, v in kept)

        def page_uri(index: int) -> str:
            token = f"&PageToken=PASM{uuid.uuid5(uuid.NAMESPACE_URL, f'{account}{index}').hex}" if index else ""
            return f"{base}?PageSize={size}{filters}&Page={index}{token}"

        body = {
            "messages": page, "page": number, "page_size": size, "start": start,
            "end": start + max(len(page) - 1, 0), "uri": page_uri(number), "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(number + 1) if start + size < len(chosen) else None,
            "previous_page_uri": page_uri(number - 1) if number else None,
        }
        ignored = sorted(name for name in request.query if name not in self.LIST_PARAMS)
        return Reply(200, body, {"X-Sandbox-Ignored-Params": ",".join(ignored)} if ignored else {})

    def get_message(self, request: Incoming, sid: str) -> Reply:
        record = self.state.find(self.platform, sid, op="message")
        if record is None or record.deleted:
            raise Answer(self.error(404, 20404, f"The requested resource {request.path} was not found"))
        return Reply(200, record.data)

    def delete_message(self, request: Incoming, sid: str) -> Reply:
        with self.state.lock:
            record = self.state.find(self.platform, sid, op="message")
            if record is None or record.deleted:
                raise Answer(self.error(404, 20404, f"The requested resource {request.path} was not found"))
            record.deleted = True
        return Reply(204, b"")


def _rfc2822(moment: float) -> str:
    return format_datetime(datetime.fromtimestamp(moment, UTC), usegmt=True).replace("GMT", "+0000")


def _twilio_date(value: str) -> tuple[float, bool] | None:
    """A ``DateSent`` value as (seconds since the epoch, whether it was a whole day), or None."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp(), True
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp(), False


def _within(moment: float, compare: str, bound: float, whole_day: bool) -> bool:
    day = timedelta(days=1).total_seconds() if whole_day else 0.0
    if compare == "after":
        return moment >= bound
    if compare == "before":
        return moment < bound + day if whole_day else moment <= bound
    return bound <= moment < bound + day if whole_day else moment == bound
