"""What Twilio sends us for an SMS: the ``X-Twilio-Signature`` and the form fields.

Pure functions, no database (see ``platforms.inbound`` for the shared types and the refusals).
:func:`read_webhook` is what ``platforms.inbound.read_webhook`` calls for an SMS channel.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from platforms.inbound import (
    MAX_TEXT_CHARS,
    InboundItem,
    Parsed,
    WebhookRejected,
    WebhookRequest,
    check_text,
    header,
    ignored_only,
    want_str,
)

__all__ = ["SIGNATURE_HEADER", "parse_twilio_sms", "read_webhook", "signed_url", "twilio_signature", "verify_twilio"]

SIGNATURE_HEADER = "X-Twilio-Signature"


def signed_url(config: Mapping[str, Any], url: str) -> str:
    """The URL Twilio signed its request for: config ``inbound_url`` when set, else ``url``.

    Twilio signs the exact URL configured in its console. Behind a proxy that terminates TLS,
    Django sees ``http://`` unless ``ENGAGE_BEHIND_PROXY``/``ENGAGE_TRUSTED_PROXIES`` make it
    trust ``X-Forwarded-Proto``; ``inbound_url`` (the URL given to the platform, as the channel
    page shows it) settles it whatever the proxy does.
    """
    return str(config.get("inbound_url") or url)


def read_webhook(
    request: WebhookRequest, *, config: Mapping[str, Any], secrets: Mapping[str, str]
) -> tuple[Parsed, list[Any]]:
    """Verify the signature with the channel's ``auth_token`` and read the SMS; each item's raw
    data is the form fields."""
    params = {key: str(value) for key, value in (request.form or {}).items()}
    verify_twilio(url=signed_url(config, request.url), params=params,
                  signature=header(request.headers, SIGNATURE_HEADER), auth_token=secrets.get("auth_token", ""))
    items = parse_twilio_sms(params)
    return items, [params] * len(items)


def twilio_signature(*, url: str, params: Mapping[str, str], auth_token: str) -> str:
    """Twilio's ``X-Twilio-Signature`` for a form POST.

    Base64 of HMAC-SHA1, keyed with the account's auth token, over the full URL Twilio called
    (with its query string) followed by every POST parameter's name and value, sorted by name
    (case-sensitive), with no separators.
    """
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with the default port added or removed.

    Twilio signs the URL exactly as configured; behind a proxy we may see it with or without
    ``:443``. Twilio's own helper libraries accept either, and so do we.
    """
    variants = [url]
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or not parts.hostname:
        return variants
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    try:
        port = parts.port
    except ValueError:
        return variants
    if port is None:
        other = f"{prefix}{host}:{default}"
    elif port == default:
        other = f"{prefix}{host}"
    else:
        return variants
    variants.append(urlunsplit((parts.scheme, other, parts.path, parts.query, parts.fragment)))
    return variants


def verify_twilio(*, url: str, params: Mapping[str, str], signature: str, auth_token: str) -> None:
    """Check Twilio's ``X-Twilio-Signature`` for an SMS webhook (form-encoded POST).

    ``url`` must be the URL Twilio was configured to call, scheme and query string included;
    ``params`` the POST form fields (one value each, as Twilio sends for SMS).
    """
    if not auth_token:
        raise WebhookRejected("auth.not_configured", "No Twilio auth token is configured for this channel.", 403)
    if not signature:
        raise WebhookRejected("auth.missing", "The X-Twilio-Signature header is missing.", 401)
    supplied = signature.strip().encode("ascii", "replace")
    valid = False
    for candidate in _url_variants(url):
        expected = twilio_signature(url=candidate, params=params, auth_token=auth_token).encode("ascii")
        valid |= hmac.compare_digest(expected, supplied)
    if not valid:
        raise WebhookRejected("auth.invalid", "The Twilio signature does not match.", 403)


def parse_twilio_sms(params: Mapping[str, str], *, received_at: datetime | None = None) -> Parsed:
    """The SMS in a Twilio messaging webhook (form fields ``MessageSid``, ``From``, ``Body``).

    ``provider_id`` is the ``MessageSid``; ``author_handle`` the sender's number as Twilio gives
    it (E.164, personal data); Twilio sends no name, no thread and no send time, so
    ``author_name`` and ``in_reply_to`` are empty and ``received_at`` is now (or the value
    given). An MMS without body text gives no item (``sms.no_text`` in ``.ignored``).
    """
    sid = want_str(params.get("MessageSid") or params.get("SmsSid"), "MessageSid", max_chars=64)
    sender = want_str(params.get("From"), "From", max_chars=64)
    body = params.get("Body", "")
    text = check_text(want_str(body, "Body", required=False, max_chars=MAX_TEXT_CHARS), "Body")
    if not text.strip():
        media = params.get("NumMedia", "0")
        detail = f"MMS with {media} media and no text" if media not in ("", "0") else "empty body"
        return ignored_only("sms.no_text", detail)
    when = received_at.astimezone(UTC) if received_at is not None else datetime.now(tz=UTC)
    return Parsed([
        InboundItem(
            provider_id=sid.strip(),
            author_handle=sender.strip(),
            author_name="",
            text=text,
            in_reply_to="",
            received_at=when,
            kind="sms",
        )
    ])
