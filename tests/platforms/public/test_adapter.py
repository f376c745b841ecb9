from __future__ import annotations

import pytest
from django.test import override_settings

from platforms import get_adapter
from platforms.base import Payload, PermanentError


def test_publishing_is_computing_the_public_url():
    adapter = get_adapter("public", config={"site_url": "https://news.police.example/"}, secrets={})
    result = adapter.publish(Payload(text="Hi", metadata={"message_id": "42"}), idempotency_key="delivery-7")
    assert result.external_id == "delivery-7"
    assert result.external_url == "https://news.police.example/news/42/"
    again = adapter.publish(Payload(text="Hi", metadata={"message_id": "42"}), idempotency_key="delivery-7")
    assert again == result  # idempotent by construction
    assert adapter.honours_idempotency_key is True


@override_settings(ENGAGE_SITE_URL="https://engage.example")
def test_the_site_url_defaults_to_the_setting():
    adapter = get_adapter("public", config={}, secrets={})
    result = adapter.publish(Payload(text="Hi", metadata={"message_id": "5"}), idempotency_key="k")
    assert result.external_url == "https://engage.example/news/5/"


def test_a_message_id_is_required():
    with pytest.raises(PermanentError, match="message_id"):
        get_adapter("public", config={}, secrets={}).publish(Payload(text="Hi"), idempotency_key="k")


def test_withdraw_is_a_no_op_and_check_is_ok():
    adapter = get_adapter("public", config={}, secrets={})
    assert adapter.supports_withdraw is True
    assert adapter.withdraw("delivery-7") is None
    assert adapter.check().state == "ok"
