"""Channels: a team's accounts on the platforms. Secrets are encrypted and never read back.

A channel's ``config`` follows its kind's schema (``campaigns.services.channel_config``): unknown
keys, values of the wrong type, URLs the outbound policy refuses, an email backend or sender not
allowed: all a 400 naming the setting. The schema says which keys are secrets.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from accounts import permissions
from accounts.audit import audit_record
from accounts.models import Team, User
from accounts.policies import policy_for
from campaigns.models import Channel, ChannelKind
from campaigns.services.channel_config import SECRET_KEYS, config_validate, secret_names
from core.errors import InvalidInput, NotAllowed
from core.queue import enqueue_on_commit
from core.sanitize import sanitize_text

__all__ = ["SECRET_KEYS", "channel_create", "channel_update", "split_config"]


def _refuse_recipient_lists(config: dict[str, Any] | None) -> None:
    """A list channel's recipients are rows with a language, segments and consent, encrypted at rest
    (``campaigns.services.recipients``), never a list of addresses in the settings."""
    if isinstance(config, dict) and "recipients" in config:
        raise InvalidInput(gettext("Recipients are not channel settings: add them as the channel's recipients."),
                           fields={"config": ["recipients: not a setting; manage them as the channel's recipients."]})


def split_config(config: dict[str, Any], *, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate ``config`` for ``kind`` and split it into (plain settings, secrets to encrypt)."""
    config_validate(kind=kind, config=config)
    secrets_of_kind = secret_names(kind)
    public = {k: v for k, v in config.items() if k not in secrets_of_kind}
    secret = {k: str(v) for k, v in config.items() if k in secrets_of_kind and v not in (None, "")}
    return public, secret


@transaction.atomic
def channel_create(*, actor: User, team: Team, kind: str, name: str, config: dict[str, Any] | None = None) -> Channel:
    if not permissions.can_manage_channels(actor, team):
        raise NotAllowed(gettext("Only an administrator of this team can add channels."))
    if kind not in ChannelKind.values:
        raise InvalidInput(gettext("Unknown channel kind."),
                           fields={"kind": [f"Choose one of {', '.join(ChannelKind.values)}."]})
    name = sanitize_text(name, max_length=200)
    if not name:
        raise InvalidInput(gettext("The channel needs a name."),
                           fields={"name": ["This field may not be blank."]})
    if config is not None and not isinstance(config, dict):
        raise InvalidInput(gettext("config must be an object."), fields={"config": ["Expected an object."]})
    _refuse_recipient_lists(config)
    public, secret = split_config(config or {}, kind=kind)
    channel = Channel(team=team, kind=kind, name=name, config={k: v for k, v in public.items() if v is not None})
    channel.set_secrets(secret)
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:
        raise InvalidInput(gettext("This team already has a channel with that name."), code="duplicate",
                           fields={"name": ["Taken."]}) from exc
    audit_record(actor=actor, verb="channel.created", target=channel,
                 summary={"kind": kind, "name": name, "config": public, "secrets_set": sorted(secret)})
    enqueue_on_commit("campaigns.check_channel", channel_id=channel.pk)  # its health now, not in 30 minutes
    return channel


@transaction.atomic
def channel_update(*, actor: User, channel: Channel, name: str | None = None, config: dict[str, Any] | None = None,
                   is_active: bool | None = None) -> Channel:
    if not policy_for(Channel).may(actor, "administer", channel):
        raise NotAllowed(gettext("Only an administrator of this team can change channels."))
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    changed: dict[str, Any] = {}
    if name is not None:
        channel.name = sanitize_text(name, max_length=200)
        changed["name"] = channel.name
    if config is not None:
        if not isinstance(config, dict):
            raise InvalidInput(gettext("config must be an object."),
                               fields={"config": ["Expected an object."]})
        _refuse_recipient_lists(config)
        public, secret = split_config(config, kind=channel.kind)
        merged = {**(channel.config or {}), **public}
        channel.config = {k: v for k, v in merged.items() if v is not None}  # null removes a setting
        if secret:
            channel.set_secrets({**channel.get_secrets(), **secret})
        changed["config"] = public
        changed["secrets_changed"] = sorted(secret)
    if is_active is not None:
        channel.is_active = is_active
        changed["is_active"] = is_active
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:
        raise InvalidInput(gettext("This team already has a channel with that name."), code="duplicate",
                           fields={"name": ["Taken."]}) from exc
    audit_record(actor=actor, verb="channel.updated", target=channel, summary=changed)
    if channel.is_active:
        enqueue_on_commit("campaigns.check_channel", channel_id=channel.pk)  # new credentials checked now
    return channel
