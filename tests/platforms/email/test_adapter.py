from __future__ import annotations

import smtplib
from email import message_from_bytes
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import override_settings

from platforms import get_adapter
from platforms.base import (
    AuthExpiredError,
    PartialDeliveryError,
    Payload,
    PermanentError,
    TransientError,
    UnconfirmedError,
)
from tests.platforms.conftest import PNG, image

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
CONFIG = {
    "from_email": "Stadium Police <news@police.example>",
    "recipients": ["ann@example.org", "bob@example.org"],
    "unsubscribe_url": "https://engage.example/unsubscribe/?email={recipient}",
    "unsubscribe_email": "unsubscribe@police.example",
}


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    # The test backends below stand in for mail servers: allow them as an operator would.
    settings.ENGAGE_EMAIL_CHANNEL_BACKENDS = [*settings.ENGAGE_EMAIL_CHANNEL_BACKENDS, f"{__name__}.FlakyBackend",
                                              f"{__name__}.LoginRefusedBackend"]
    with override_settings(EMAIL_BACKEND=LOCMEM, ENGAGE_PUBLISH_EMAIL_BACKEND=LOCMEM):
        mail.outbox = []
        yield


def adapter(**changes):
    return get_adapter("email", config={**CONFIG, **changes}, secrets={})


def test_one_message_per_recipient_with_unsubscribe_headers():
    payload = Payload(
        text="Roads reopen at 9pm.\n\nThank you.",
        subject="Roads reopen",
        language="cy",
        link="https://engage.example/news/4/",
    )
    result = adapter().publish(payload, idempotency_key="delivery-9")
    assert [m.to for m in mail.outbox] == [["ann@example.org"], ["bob@example.org"]]
    first = mail.outbox[0]
    assert first.subject == "Roads reopen"
    assert first.from_email == "Stadium Police <news@police.example>"
    headers = first.extra_headers
    assert headers["List-Unsubscribe"] == (
        "<mailto:unsubscribe@police.example?subject=unsubscribe>, "
        "<https://engage.example/unsubscribe/?email=ann%40example.org>"
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Content-Language"] == "cy"
    assert headers["Message-ID"].startswith("<engage.") and headers["Message-ID"].endswith("@police.example>")
    assert result.external_id.startswith("engage.") and result.external_id.endswith("@police.example")
    assert result.detail == "sent to 2 recipient(s)"
    assert "https://engage.example/news/4/" in first.body


def test_the_message_id_is_derived_from_the_key_so_duplicates_are_recognisable():
    email_adapter = adapter()
    email_adapter.publish(Payload(text="Hi"), idempotency_key="key-a")
    email_adapter.publish(Payload(text="Hi"), idempotency_key="key-a")
    email_adapter.publish(Payload(text="Hi"), idempotency_key="key-b")
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert ids[0] == ids[2] and ids[1] == ids[3]  # same key and recipient: same Message-ID
    assert ids[0] != ids[1]  # another recipient
    assert ids[4] != ids[0]  # another key
    assert ids[0].split(".")[1] == ids[1].split(".")[1]  # the key's part is shared by every recipient


def test_everything_in_the_html_part_is_escaped_and_images_carry_alt_text():
    payload = Payload(
        text='<script>alert("x")</script> & "quotes"',
        media=(image("map.png", 'Map "A" <b>bold</b>'),),
        link='https://engage.example/news/4/?a=1&b="2"',
    )
    adapter().publish(payload, idempotency_key="k")
    message = mail.outbox[0]
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    assert 'alt="Map &quot;A&quot; &lt;b&gt;bold&lt;/b&gt;"' in html
    assert 'src="cid:img0@engage"' in html
    assert 'href="https://engage.example/news/4/?a=1&amp;b=&quot;2&quot;"' in html

    parsed = message_from_bytes(message.message().as_bytes())
    assert parsed.get_content_type() == "multipart/related"
    images = [part for part in parsed.walk() if part.get_content_maintype() == "image"]
    assert len(images) == 1
    assert images[0]["Content-ID"] == "<img0@engage>"
    assert images[0].get_payload(decode=True) == PNG


def test_subject_defaults_to_the_first_line_without_line_breaks():
    adapter().publish(Payload(text="Stand clear of the east gate\nmore"), idempotency_key="k")
    assert mail.outbox[0].subject == "Stand clear of the east gate"


def test_payload_recipients_replace_the_list():
    adapter().publish(Payload(text="Answer", recipients=("carol@example.org",)), idempotency_key="k")
    assert [m.to for m in mail.outbox] == [["carol@example.org"]]


def test_no_recipients_is_permanent():
    with pytest.raises(PermanentError, match="no recipients"):
        adapter(recipients=[]).publish(Payload(text="Hi"), idempotency_key="k")


def test_no_https_unsubscribe_url_means_no_one_click_header():
    adapter(unsubscribe_url="").publish(Payload(text="Hi"), idempotency_key="k")
    headers = mail.outbox[0].extra_headers
    assert headers["List-Unsubscribe"] == "<mailto:unsubscribe@police.example?subject=unsubscribe>"
    assert "List-Unsubscribe-Post" not in headers


class FlakyBackend(LocmemBackend):
    """Refuses bob for good, drops the connection while sending to dan."""

    def send_messages(self, messages):
        to = messages[0].to[0]
        if to.startswith("bob@"):
            raise smtplib.SMTPRecipientsRefused({to: (550, b"No such user")})
        if to.startswith("dan@"):
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class LoginRefusedBackend(LocmemBackend):
    def open(self):
        raise smtplib.SMTPAuthenticationError(535, b"Authentication failed")


def test_a_refused_recipient_is_rejected_and_a_drop_is_unconfirmed():
    recipients = [
        "ann@example.org",
        "bob@example.org",
        "carol@example.org",
        "dan@example.org",
        "eve@example.org",
    ]
    flaky = adapter(recipients=recipients, backend=f"{__name__}.FlakyBackend")
    with pytest.raises(PartialDeliveryError) as caught:
        flaky.publish(Payload(text="Hi"), idempotency_key="k")
    error = caught.value
    assert isinstance(error, UnconfirmedError)
    assert list(error.accepted) == ["ann@example.org", "carol@example.org"]
    assert list(error.rejected) == ["bob@example.org"]
    assert error.unconfirmed == ("dan@example.org",)
    assert error.unsent == ("eve@example.org",)
    assert [m.to[0] for m in mail.outbox] == ["ann@example.org", "carol@example.org"]


def test_a_refused_login_is_auth_expired():
    with pytest.raises(AuthExpiredError):
        adapter(backend=f"{__name__}.LoginRefusedBackend").publish(Payload(text="Hi"), idempotency_key="k")
    assert adapter(backend=f"{__name__}.LoginRefusedBackend").check().state == "auth_expired"


def test_an_unreachable_mail_server_is_transient(dead_url):
    port = urlsplit(dead_url).port
    with override_settings(EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_TIMEOUT=1):
        smtp = adapter(backend="django.core.mail.backends.smtp.EmailBackend")
        with pytest.raises(TransientError, match="could not connect"):
            smtp.publish(Payload(text="Hi"), idempotency_key="k")
        assert smtp.check().state == "failing"


def test_check_and_capabilities():
    email_adapter = adapter()
    assert email_adapter.check().state == "ok"
    assert (email_adapter.supports_withdraw, email_adapter.honours_idempotency_key) == (False, False)
    with pytest.raises(NotImplementedError):
        email_adapter.withdraw("x")
