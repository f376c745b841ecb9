"""SMS through a Twilio-compatible gateway (the Twilio Messages API).

One ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` per recipient, form encoded
(``To``, ``From`` or ``MessagingServiceSid``, ``Body``, optional ``StatusCallback``), HTTP
basic auth with the account SID and auth token. ``external_id`` is the comma-joined
message SIDs, in recipient order.

Before anything is sent, :meth:`SmsAdapter.estimate` counts segments (GSM-7 or UCS-2) and
the cost (``segments x recipients x price_per_segment``); ``publish`` refuses a message over
``max_segments`` or ``max_cost`` without sending.

Several recipients and partial failure. Twilio has no idempotency key, so a recipient
whose request timed out may have been texted. ``publish`` never sends twice to anyone:

* a recipient refused for good (invalid or unsubscribed number) is recorded as rejected
  and the others are still sent;
* anything else (rate limit, 5xx, timeout, auth) stops the run;
* if nothing was accepted, the underlying error is raised as is (a TransientError is then
  safe to retry as a whole);
* otherwise :class:`PartialDeliveryError` (an UnconfirmedError) says who was ``accepted``
  (recipient -> SID), who is ``unconfirmed`` (sent, no answer: reconcile, do not resend),
  who is ``unsent`` (safe to send again: ``replace(payload, recipients=exc.unsent)`` with a
  new idempotency key) and who was ``rejected``.

Look-up (an unconfirmed text): the Messages list (ListMessage) per recipient, filtered by ``To``,
``From`` and ``DateSent>``, matched on ``Body``, sender and creation time (``lookup``; docs/platforms.md).

Images are not sent: MMS needs publicly hosted media URLs. The result detail says so.
There is no withdraw: a sent text cannot be recalled.

Recipients: ``payload.recipients``. A channel never stores them: the send engine gives each
delivery the list recipients its text targets (``campaigns.services.targeting``); ``recipients``
in the config is only for using the adapter on its own (tests, the sandbox).

Config: ``account_sid``, ``from_number`` (or ``messaging_service_sid``),
``price_per_segment`` (decimal string, default 0), ``currency``, ``max_segments``
(default 10, and never more than 10: Twilio refuses a ``Body`` over 1,600 characters, error
21617, and 11 GSM-7 segments hold 1,683; the text is refused above it without sending, and a
``Body`` over 1,600 characters is never sent whatever the setting), ``max_cost``, ``status_callback``, ``api_base`` (default
``https://api.twilio.com``). Secrets: ``auth_token``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from platforms.base import (
    AdapterError,
    AuthExpiredError,
    HealthResult,
    LookupQuery,
    LookupResult,
    Payload,
    PermanentError,
    PublishResult,
)
from platforms.common import AdapterBase
from platforms.fanout import fan_out
from platforms.http import error_for_status, json_or_empty, send, short
from platforms.lookup import MAX_PAGES, Match, Window, could_not_list, decide, parse_time, same_text
from platforms.sms import counting

DEFAULT_API_BASE = "https://api.twilio.com"
API_VERSION = "2010-04-01"
# Twilio error codes that concern one recipient only: the others may still be sent.
DEFAULT_MAX_SEGMENTS = 10  # refuse to send more; the checker warns from its own (lower) threshold
# Twilio: "Body ... Can be up to 1,600 characters in length" (twilio_api_v2010.json, CreateMessage).
MAX_BODY = counting.SMS_MAX_BODY
MAX_SEGMENTS = counting.SMS_MAX_SEGMENTS  # 10: the most segments whose text always fits MAX_BODY
LOOKUP_PAGE_SIZE = 100  # ListMessage PageSize: 1 to 1000
PER_RECIPIENT_LOOKUPS = 10  # more recipients than this are looked for in one listing of the window
BULK_PAGE_SIZE = 1000
BULK_MAX_PAGES = 10  # 10,000 messages in the window at most, else unknown
RECIPIENT_ERROR_CODES = frozenset({21211, 21408, 21610, 21612, 21614, 21635})


@dataclass(frozen=True)
class SmsEstimate:
    segments: int  # per recipient
    encoding: str  # "GSM-7" or "UCS-2"
    recipients: int
    cost: Decimal  # segments x recipients x price_per_segment
    currency: str = ""


class SmsAdapter(AdapterBase):
    kind = "sms"
    supports_withdraw = False
    honours_idempotency_key = False
    can_lookup = True
    required_config = ("account_sid",)
    required_secrets = ("auth_token",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not (self.config.get("from_number") or self.config.get("messaging_service_sid")):
            raise PermanentError("sms: channel is missing from_number (or messaging_service_sid)")

    @property
    def _messages_url(self) -> str:
        base = str(self.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        return f"{base}/{API_VERSION}/Accounts/{self.config['account_sid']}/Messages.json"

    @property
    def _auth(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(str(self.config["account_sid"]), self.secrets["auth_token"])

    def _recipients(self, payload: Payload) -> tuple[str, ...]:
        recipients = payload.recipients or tuple(self.config.get("recipients") or ())
        # Keep order, drop duplicates: nobody gets the same text twice from one publish.
        return tuple(dict.fromkeys(str(r).strip() for r in recipients if str(r).strip()))

    @property
    def _max_segments(self) -> int:
        """The channel's maximum, capped at :data:`MAX_SEGMENTS` (a channel saved before the cap)."""
        return min(int(self.config.get("max_segments", DEFAULT_MAX_SEGMENTS)), MAX_SEGMENTS)

    @property
    def limit(self) -> int:
        return counting.sms_count("", max_segments=self._max_segments).limit

    def count(self, text: str) -> int:
        return counting.sms_count(text, max_segments=self._max_segments).used

    def estimate(self, payload: Payload, *, recipient_count: int | None = None) -> SmsEstimate:
        """Segments, encoding, recipients and cost of ``payload``, before anything is sent
        (``recipient_count``: for that many recipients instead of the payload's, for a plan)."""
        counted = counting.sms_count(payload.text, max_segments=self._max_segments)
        recipients = len(self._recipients(payload)) if recipient_count is None else recipient_count
        try:
            price = Decimal(str(self.config.get("price_per_segment", "0")))
        except InvalidOperation:
            raise PermanentError("sms: price_per_segment is not a number") from None
        return SmsEstimate(
            segments=counted.segments,
            encoding=counted.encoding,
            recipients=recipients,
            cost=counting.sms_cost(
                segments=counted.segments, recipients=recipients, price_per_segment=price
            ),
            currency=str(self.config.get("currency", "")),
        )

    def publish(self, payload: Payload, *, idempotency_key: str) -> PublishResult:
        recipients = self._recipients(payload)
        if not recipients:
            raise PermanentError("sms: no recipients")
        if not payload.text.strip():
            raise PermanentError("sms: the text is empty")
        characters = len(payload.text.encode("utf-16-le")) // 2  # UTF-16 units: never fewer than characters
        if characters > MAX_BODY:
            raise PermanentError(
                f"sms: {characters} characters, over Twilio's limit of {MAX_BODY:,} for one message"
            )
        estimate = self.estimate(payload)
        max_segments = self._max_segments
        if estimate.segments > max_segments:
            raise PermanentError(
                f"sms: {estimate.segments} segments, over the channel's limit of {max_segments}"
            )
        max_cost = self.config.get("max_cost")
        if max_cost not in (None, "") and estimate.cost > Decimal(str(max_cost)):
            raise PermanentError(
                f"sms: estimated cost {estimate.cost} is over the channel's limit of {max_cost}"
            )

        return fan_out(
            what="sms",
            recipients=recipients,
            send_one=lambda recipient: self._send_one(recipient, composed_text(payload)),
            is_recipient_error=_is_recipient_error,
            make_result=lambda accepted: self._result(accepted, estimate, payload),
        )

    def _result(self, accepted: dict[str, str], estimate: SmsEstimate, payload: Payload) -> PublishResult:
        detail = (
            f"{len(accepted)} recipients, {estimate.segments} segment(s) {estimate.encoding} each, "
            f"estimated cost {estimate.cost}{(' ' + estimate.currency) if estimate.currency else ''}"
        )
        if payload.media:
            detail += "; images not sent (SMS carries text only)"
        return PublishResult(external_id=",".join(accepted.values()), http_status=201, detail=detail)

    def _send_one(self, recipient: str, text: str) -> str:
        form = {"To": recipient, "Body": text}
        if self.config.get("messaging_service_sid"):
            form["MessagingServiceSid"] = str(self.config["messaging_service_sid"])
        else:
            form["From"] = str(self.config["from_number"])
        if self.config.get("status_callback"):
            form["StatusCallback"] = str(self.config["status_callback"])
        response = send(
            self.http,
            "POST",
            self._messages_url,
            what="sms send",
            retry_safe=False,
            redact=self.redact,
            data=form,
            auth=self._auth,
        )
        body = json_or_empty(response)
        if response.status_code in (200, 201) and isinstance(body, dict) and body.get("sid"):
            return str(body["sid"])
        raise self._error(response, body, what="sms send", retry_safe=False)

    # --- look-up -------------------------------------------------------------------------------
    def lookup(self, query: LookupQuery) -> LookupResult:
        """Did the texts in ``query`` go out? The Messages list filtered by ``From`` and ``DateSent>``
        (and by ``To``, one listing per recipient, for up to :data:`PER_RECIPIENT_LOOKUPS`
        recipients; more are looked for in one listing of everything we sent in the window), matched
        on recipient, ``Body``, sender and creation time. All recipients (as ``publish`` chose them)
        have it: found (the SIDs, in recipient order, as ``publish`` returns them); none has it:
        absent; otherwise unknown."""
        recipients = self._recipients(query.payload)
        if not recipients:
            return LookupResult("unknown", "Twilio was not asked: the delivery names no recipients.")
        window, text = Window.of(query), composed_text(query.payload)
        if len(recipients) <= PER_RECIPIENT_LOOKUPS:
            answers = [self._lookup_one(recipient, text, window) for recipient in recipients]
        else:
            answers = self._lookup_all(recipients, text, window)
        states = [answer.state for answer in answers]
        statuses = [a.http_status for a in answers if a.http_status and a.http_status != 200]
        status = statuses[0] if statuses else 200
        if states == ["found"] * len(answers):
            detail = ("Twilio has the message for the recipient." if len(answers) == 1
                      else f"Twilio has the message for all {len(answers)} recipients.")
            return LookupResult("found", detail, external_id=",".join(a.external_id for a in answers),
                                http_status=status)
        if states == ["absent"] * len(answers):
            return LookupResult("absent", f"Twilio listed the window for {len(answers)} recipient(s) and none has "
                                          "the message.", http_status=status)
        if len(answers) == 1:
            return LookupResult("unknown", answers[0].detail, http_status=answers[0].http_status)
        found, absent = states.count("found"), states.count("absent")
        return LookupResult("unknown", f"{found} of {len(answers)} recipients have it, {absent} certainly do not, "
                                       f"{len(answers) - found - absent} could not be told.", http_status=status)

    def _lookup_one(self, recipient: str, text: str, window: Window) -> LookupResult:
        matches: list[Match] = []

        def keep(message: dict[str, Any]) -> None:
            if message.get("to") == recipient and self._matches(message, text, window):
                matches.append(Match(str(message.get("sid") or "")))

        try:
            complete, listed = self._list({"To": recipient}, window, keep, page_size=LOOKUP_PAGE_SIZE,
                                          max_pages=MAX_PAGES)
        except AdapterError as exc:
            return could_not_list("Twilio", "the recipient's messages", exc.http_status)
        return decide("Twilio", "the recipient's messages", matches, complete=complete, listed=listed)

    def _lookup_all(self, recipients: tuple[str, ...], text: str, window: Window) -> list[LookupResult]:
        """One listing of everything we sent in the window, for many recipients at once."""
        matches: dict[str, list[Match]] = {recipient: [] for recipient in recipients}

        def keep(message: dict[str, Any]) -> None:
            if str(message.get("to")) in matches and self._matches(message, text, window):
                matches[str(message["to"])].append(Match(str(message.get("sid") or "")))

        try:
            complete, listed = self._list({}, window, keep, page_size=BULK_PAGE_SIZE, max_pages=BULK_MAX_PAGES)
        except AdapterError as exc:
            return [could_not_list("Twilio", "the messages sent in the window", exc.http_status)] * len(recipients)
        return [decide("Twilio", "the messages sent in the window", matches[recipient], complete=complete,
                       listed=listed) for recipient in recipients]

    def _matches(self, message: dict[str, Any], text: str, window: Window) -> bool:
        """Ours (from our number or messaging service), outbound, created in the window, same ``Body``.
        Any status counts, ``failed`` and ``undelivered`` too: Twilio accepted the message, so it went
        out from us (docs/platforms.md)."""
        service = str(self.config.get("messaging_service_sid") or "")
        ours = (message.get("messaging_service_sid") == service) if service else (
            message.get("from") == str(self.config["from_number"]))
        return (ours and str(message.get("direction", "")).startswith("outbound")
                and window.holds(parse_time(message.get("date_created")))
                and same_text(text, str(message.get("body") or "")))

    def _list(self, filters: dict[str, str], window: Window, keep: Any, *, page_size: int,
              max_pages: int) -> tuple[bool, int]:
        """Read ListMessage with ``filters``, ``From`` (unless we send through a messaging service)
        and ``DateSent>``, page by page; ``keep`` sees every message. Returns (whether the listing
        reached its end, how many messages it listed)."""
        first: dict[str, str] = {**filters, "DateSent>": _twilio_time(window.start),
                                 "PageSize": str(int(self.config.get("lookup_page_size") or page_size))}
        if not self.config.get("messaging_service_sid"):
            first["From"] = str(self.config["from_number"])
        params: dict[str, str] | None = first
        base = str(self.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        max_pages = int(self.config.get("lookup_max_pages") or max_pages)
        url, listed, pages, next_uri = self._messages_url, 0, 0, ""
        while url:
            response = send(self.http, "GET", url, what="sms look-up", retry_safe=True, redact=self.redact,
                            params=params, auth=self._auth)
            body = json_or_empty(response)
            if response.status_code != 200 or not isinstance(body, dict):
                raise self._error(response, body, what="sms look-up", retry_safe=True)
            pages += 1
            for message in body.get("messages") or []:
                if isinstance(message, dict):
                    listed += 1
                    keep(message)
            # The next page's address is Twilio's relative URI, on our own base address (the
            # credentials never go to a host an answer names).
            next_uri = str(body.get("next_page_uri") or "")
            if next_uri and not next_uri.startswith(f"/{API_VERSION}/Accounts/"):
                raise PermanentError("sms look-up: the next page's address is not a Messages address")
            # (the next page's address carries the filters; ``params`` would replace its query)
            url, params = (f"{base}{next_uri}" if next_uri and pages < max_pages else ""), None
        return not next_uri, listed

    def check(self) -> HealthResult:
        base = str(self.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        try:
            response = send(
                self.http,
                "GET",
                f"{base}/{API_VERSION}/Accounts/{self.config['account_sid']}.json",
                what="sms check",
                retry_safe=True,
                redact=self.redact,
                auth=self._auth,
            )
        except AdapterError as exc:
            return HealthResult(state="failing", detail=exc.detail)
        body = json_or_empty(response)
        if response.status_code == 200 and isinstance(body, dict):
            status = str(body.get("status", "active"))
            if status != "active":
                shown = status if status in ("suspended", "closed") else "not active"
                return HealthResult(state="failing", detail=f"the account is {shown}")
            return HealthResult(state="ok", detail="the account is active")
        error = self._error(response, body, what="sms check", retry_safe=True)
        state = "auth_expired" if isinstance(error, AuthExpiredError) else "failing"
        return HealthResult(state=state, detail=error.detail)

    def _error(self, response: httpx.Response, body: Any, *, what: str, retry_safe: bool) -> AdapterError:
        body = body if isinstance(body, dict) else {}
        code = body.get("code")
        message = short(str(body.get("message") or response.reason_phrase))
        error = error_for_status(
            response, what=what, detail=message, redact=self.redact, retry_safe=retry_safe, platform_code=code
        )
        error.platform_code = code
        return error


def composed_text(payload: Payload) -> str:
    """The ``Body`` exactly as ``publish`` sends it (and ``lookup`` compares)."""
    return payload.text


def _twilio_time(moment: datetime) -> str:
    """A ``DateSent`` filter value as Twilio's helper libraries send a date-time (ISO 8601, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_recipient_error(exc: AdapterError) -> bool:
    try:
        return int(str(exc.platform_code)) in RECIPIENT_ERROR_CODES
    except (TypeError, ValueError):
        return False
