"""Email bulletins through Django's email backend.

One message per recipient (so nobody sees the list and each copy has its own unsubscribe
link), sent over one connection: ``settings.ENGAGE_PUBLISH_EMAIL_BACKEND`` when set (the
file backend in the embedded run), else ``EMAIL_BACKEND``; config ``backend`` overrides
both.

* ``Message-ID`` is derived from the idempotency key and the recipient
  (``<engage.<key hash>.<recipient hash>@domain>``), so a duplicate is recognisable by the
  receiving side and by us; ``external_id`` is the common prefix ``engage.<key hash>@domain``.
* ``List-Unsubscribe: <mailto:...>, <https://...>`` and ``List-Unsubscribe-Post:
  List-Unsubscribe=One-Click`` (RFC 8058, only when an https URL is configured);
  ``{recipient}`` in ``unsubscribe_url`` is replaced by the URL-quoted address.
* the HTML part escapes everything (``django.utils.html.escape``); images are attached
  inline (``multipart/related``, ``cid:`` references) with their alt text on the ``img``.
* SMTP outcomes: could not connect or log in before sending: TransientError (or
  AuthExpiredError); a recipient refused with 5xx: rejected, the others still sent; a
  disconnect or timeout while a message was being sent: unconfirmed. Several recipients
  follow ``fanout`` (PartialDeliveryError).

No withdraw: a sent email cannot be recalled.

Recipients: ``payload.recipients``, as for SMS (``campaigns.services.targeting``); ``recipients``
in the config is only for using the adapter on its own.

Config: ``from_email`` (default ``DEFAULT_FROM_EMAIL``),
``unsubscribe_url``, ``unsubscribe_email``, ``reply_to``, ``message_id_domain``, ``backend``.
``backend`` must be one of ``ENGAGE_EMAIL_CHANNEL_BACKENDS`` (or the configured
``ENGAGE_PUBLISH_EMAIL_BACKEND``) and ``from_email`` an address or domain of
``ENGAGE_EMAIL_CHANNEL_SENDERS``: the channel's settings are checked when saved, and again here,
so a setting stored before (or around) that check still cannot load code or forge a sender.
"""

from __future__ import annotations

import hashlib
import smtplib
from email.mime.image import MIMEImage
from email.utils import parseaddr
from urllib.parse import quote

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.html import escape
from django.utils.translation import gettext, override

from platforms.base import (
    AuthExpiredError,
    HealthResult,
    Payload,
    PermanentError,
    PublishResult,
    TransientError,
    UnconfirmedError,
)
from platforms.common import AdapterBase
from platforms.fanout import fan_out

SUBJECT_LIMIT = 120


def email_subject(payload: Payload) -> str:
    """The ``Subject``: the title, else the text's first line, on one line, at most
    :data:`SUBJECT_LIMIT` characters (cut with "…")."""
    first_line = payload.text.strip().splitlines()[0] if payload.text.strip() else ""
    subject = " ".join((payload.subject or first_line).split())  # no line breaks in a header
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1] + "…"
    return subject


def email_text(payload: Payload, unsubscribe_url: str = "") -> str:
    """The plain-text part: the text, the message's public link, and the unsubscribe line
    (in the message's language). No hashtags: they mean nothing in an email."""
    parts = [payload.text.strip()]
    with override(payload.language or None):
        if payload.link:
            parts.append(payload.link)
        if unsubscribe_url:
            parts.append(f"{gettext('Unsubscribe')}: {unsubscribe_url}")
    return "\n\n".join(parts) + "\n"


RECIPIENT_REFUSED = "recipient_refused"


def sender_allowed(from_email: str) -> bool:
    """Whether ``ENGAGE_EMAIL_CHANNEL_SENDERS`` allows this sender (an address, its domain, or ``*``)."""
    if any(c in from_email for c in "\r\n"):
        return False
    address = parseaddr(from_email)[1].lower()
    allowed = {str(a).strip().lower() for a in getattr(settings, "ENGAGE_EMAIL_CHANNEL_SENDERS", ())}
    return bool(address) and ("*" in allowed or address in allowed or address.rpartition("@")[2] in allowed)


def _hash(value: str, length: int = 24) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:length]


class EmailAdapter(AdapterBase):
    kind = "email"
    supports_withdraw = False
    honours_idempotency_key = False
    can_lookup = False

    @property
    def _from_email(self) -> str:
        from_email = str(self.config.get("from_email") or settings.DEFAULT_FROM_EMAIL)
        if from_email != settings.DEFAULT_FROM_EMAIL and not sender_allowed(from_email):
            raise PermanentError("email: this channel's from_email is not an allowed sender")
        return from_email

    @property
    def _domain(self) -> str:
        configured = str(self.config.get("message_id_domain") or "")
        if configured:
            return configured
        address = parseaddr(self._from_email)[1]
        return address.rpartition("@")[2] or "engage.invalid"

    def _connection(self) -> BaseEmailBackend:
        configured = getattr(settings, "ENGAGE_PUBLISH_EMAIL_BACKEND", None)
        backend = self.config.get("backend") or configured
        allowed = [*getattr(settings, "ENGAGE_EMAIL_CHANNEL_BACKENDS", ()), configured]
        if backend and backend not in allowed:
            raise PermanentError("email: this channel's backend is not an allowed email backend")
        return get_connection(backend or None, fail_silently=False)

    def message_id(self, *, idempotency_key: str, recipient: str) -> str:
        return f"<engage.{_hash(idempotency_key)}.{_hash(recipient.lower(), 16)}@{self._domain}>"

    # --- publishing ------------------------------------------------------------------------
    def publish(self, payload: Payload, *, idempotency_key: str) -> PublishResult:
        recipients = tuple(
            dict.fromkeys(
                str(r).strip() for r in (payload.recipients or self.config.get("recipients") or ()) if r
            )
        )
        if not recipients:
            raise PermanentError("email: no recipients")
        _ = self._from_email  # refuses a sender that is not allowed before anything is sent
        connection = self._connection()
        try:
            connection.open()
        except smtplib.SMTPAuthenticationError:
            raise AuthExpiredError("email: the mail server refused our login") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(
                f"email: could not connect to the mail server ({type(exc).__name__})"
            ) from None
        try:
            return fan_out(
                what="email",
                recipients=recipients,
                send_one=lambda recipient: self._send_one(connection, payload, idempotency_key, recipient),
                is_recipient_error=lambda exc: exc.platform_code == RECIPIENT_REFUSED,
                make_result=lambda accepted: PublishResult(
                    external_id=f"engage.{_hash(idempotency_key)}@{self._domain}",
                    detail=f"sent to {len(accepted)} recipient(s)",
                ),
            )
        finally:
            try:
                connection.close()
            except (smtplib.SMTPException, OSError):
                pass  # the messages are already handed over; a failed QUIT changes nothing

    def _send_one(
        self, connection: BaseEmailBackend, payload: Payload, idempotency_key: str, recipient: str
    ) -> str:
        message_id = self.message_id(idempotency_key=idempotency_key, recipient=recipient)
        try:
            message = self.build_message(payload, recipient=recipient, message_id=message_id)
            sent = connection.send_messages([message])
        except (BadHeaderError, ValueError) as exc:
            raise PermanentError(f"email: the message cannot be built: {exc}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                error = PermanentError(f"email: {recipient} refused ({codes[0]})")
                error.platform_code = RECIPIENT_REFUSED
                raise error from None
            raise TransientError(
                f"email: {recipient} temporarily refused ({codes[0] if codes else '?'})"
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise PermanentError(f"email: the sender address was refused ({exc.smtp_code})") from None
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code >= 500:
                raise PermanentError(f"email: the message was refused ({exc.smtp_code})") from None
            raise TransientError(f"email: the message was deferred ({exc.smtp_code})") from None
        except smtplib.SMTPAuthenticationError:
            raise AuthExpiredError("email: the mail server refused our login") from None
        except (smtplib.SMTPServerDisconnected, TimeoutError, OSError, smtplib.SMTPException) as exc:
            raise UnconfirmedError(
                f"email: the connection failed while sending to {recipient} ({type(exc).__name__}); "
                "it may have been accepted"
            ) from None
        if not sent:
            raise UnconfirmedError(f"email: the backend did not confirm the message to {recipient}")
        return message_id

    def build_message(self, payload: Payload, *, recipient: str, message_id: str) -> EmailMultiAlternatives:
        subject = email_subject(payload)
        headers = {"Message-ID": message_id, "Content-Language": payload.language or "en"}
        unsubscribe_url = self._unsubscribe_url(recipient)
        unsubscribe = []
        if self.config.get("unsubscribe_email"):
            unsubscribe.append(f"<mailto:{self.config['unsubscribe_email']}?subject=unsubscribe>")
        if unsubscribe_url:
            unsubscribe.append(f"<{unsubscribe_url}>")
        if unsubscribe:
            headers["List-Unsubscribe"] = ", ".join(unsubscribe)
        if unsubscribe_url.startswith("https://"):
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        reply_to = [str(self.config["reply_to"])] if self.config.get("reply_to") else None
        message = EmailMultiAlternatives(
            subject=subject,
            body=self._text_body(payload, unsubscribe_url),
            from_email=self._from_email,
            to=[recipient],
            reply_to=reply_to,
            headers=headers,
        )
        message.attach_alternative(self._html_body(payload, unsubscribe_url), "text/html")
        if payload.media:
            message.mixed_subtype = "related"
            for index, item in enumerate(payload.media):
                maintype, _, subtype = item.mime.partition("/")
                if maintype != "image" or not subtype:
                    raise PermanentError(f"email: {item.filename} is not an image ({item.mime})")
                image = MIMEImage(item.content, _subtype=subtype)
                image.add_header("Content-ID", f"<img{index}@engage>")
                image.add_header("Content-Disposition", "inline", filename=item.filename)
                message.attach(image)
        return message

    def _unsubscribe_url(self, recipient: str) -> str:
        url = str(self.config.get("unsubscribe_url") or "")
        return url.replace("{recipient}", quote(recipient, safe="")) if url else ""

    def _text_body(self, payload: Payload, unsubscribe_url: str) -> str:
        return email_text(payload, unsubscribe_url)

    def _html_body(self, payload: Payload, unsubscribe_url: str) -> str:
        paragraphs = [
            "<p>" + "<br>".join(escape(line) for line in block.splitlines()) + "</p>"
            for block in payload.text.strip().split("\n\n")
            if block.strip()
        ]
        images = [
            f'<p><img src="cid:img{index}@engage" alt="{escape(item.alt_text)}" style="max-width:100%"></p>'
            for index, item in enumerate(payload.media)
        ]
        footer = []
        with override(payload.language or None):
            if payload.link.startswith(("https://", "http://")):
                footer.append(f'<p><a href="{escape(payload.link)}">{escape(payload.link)}</a></p>')
            if unsubscribe_url.startswith(("https://", "http://")):
                footer.append(
                    f'<p><a href="{escape(unsubscribe_url)}">{escape(gettext("Unsubscribe"))}</a></p>'
                )
        language = escape(payload.language or "en")
        return (
            f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8"></head><body>'
            + "".join(paragraphs + images + footer)
            + "</body></html>"
        )

    # --- health ------------------------------------------------------------------------------
    def check(self) -> HealthResult:
        connection = self._connection()
        try:
            connection.open()
        except smtplib.SMTPAuthenticationError:
            return HealthResult(state="auth_expired", detail="the mail server refused our login")
        except (smtplib.SMTPException, OSError) as exc:
            return HealthResult(
                state="failing", detail=f"could not connect to the mail server ({type(exc).__name__})"
            )
        try:
            connection.close()
        except (smtplib.SMTPException, OSError):
            pass  # reaching the server and logging in was the check
        return HealthResult(state="ok", detail=f"{type(connection).__module__}")
