"""Channel configs saved before each kind had a schema may hold keys no schema knows (``secret``,
``password``, a typo of a token's name), stored as plain text. Move them into the channel's encrypted
secrets, under the same name: nothing is lost, nothing stays readable, nothing is shown back.

The known keys are frozen here as they were when the schema was introduced
(``campaigns/services/channel_config.py``), so this migration does the same whatever the schema
becomes later.
"""

from __future__ import annotations

import json

from django.db import migrations

COMMON = {"connect_timeout", "read_timeout", "max_characters", "token_expires_at"}
KNOWN = {
    "mastodon": {"instance_url", "visibility", "media_poll_attempts", "media_poll_interval", "poll_mentions"},
    "telegram": {"chat_id", "api_base", "channel_username", "link_preview"},
    "x": {"api_base", "username", "client_id", "expires_at"},
    "facebook": {"page_id", "api_base", "api_version", "views_metric"},
    "sms": {"api_base", "account_sid", "from_number", "messaging_service_sid", "recipients", "price_per_segment",
            "currency", "max_cost", "max_segments", "status_callback", "inbound_url"},
    "email": {"from_email", "recipients", "unsubscribe_url", "unsubscribe_email", "reply_to", "message_id_domain",
              "backend"},
    "webhook": {"url", "health_url", "honours_idempotency_key", "max_inline_media_bytes"},
    "public": {"site_url"},
}


def forwards(apps, schema_editor):
    from campaigns.secretbox import decrypt, encrypt

    Channel = apps.get_model("campaigns", "Channel")
    for channel in Channel.objects.all().iterator():
        config = dict(channel.config or {})
        known = COMMON | KNOWN.get(channel.kind, set())
        unknown = {key: value for key, value in config.items() if key not in known}
        if not unknown:
            continue
        secrets = json.loads(decrypt(channel.secrets_encrypted)) if channel.secrets_encrypted else {}
        for key, value in unknown.items():
            if value not in (None, ""):
                secrets.setdefault(key, value if isinstance(value, str) else json.dumps(value))
            config.pop(key)
        channel.config = config
        channel.secrets_encrypted = encrypt(json.dumps(secrets, sort_keys=True)) if secrets else ""
        channel.save(update_fields=["config", "secrets_encrypted"])


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0004_delivery_stats")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
