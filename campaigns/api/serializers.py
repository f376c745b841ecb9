"""Serializers of the outbound API. They shape data; services decide and write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from accounts.models import Team
from accounts.policies import policy_for
from campaigns.models import (
    Campaign,
    Channel,
    ChannelKind,
    Delivery,
    Event,
    EventKind,
    MediaAsset,
    Message,
    Partner,
    RiskLevel,
    Segment,
    Urgency,
    Variant,
    VariantFormat,
)
from campaigns.services.channel_config import schema_for
from core.ids import IdField, IdListField, IdRelatedField
from core.links import safe_external_url


class VisibleTeamField(IdRelatedField):
    def get_queryset(self):
        request = self.context["request"]
        return policy_for(Team).queryset(request.user, "view")


class EventSerializer(serializers.ModelSerializer):
    team = VisibleTeamField(required=False)
    kind = serializers.ChoiceField(choices=EventKind.choices)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    phase = serializers.CharField(read_only=True)
    hashtags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    polygon = serializers.ListField(child=serializers.ListField(child=serializers.FloatField(), min_length=2,
                                                                max_length=2), required=False)

    class Meta:
        model = Event
        fields = ["id", "team", "name", "kind", "description", "location", "latitude", "longitude", "radius_m",
                  "polygon", "starts_at", "ends_at", "expected_attendance", "hashtags", "risk_level", "phase",
                  "phase_override", "what_to_bring", "prohibited_items", "help_points", "is_public", "created_at",
                  "updated_at", "content_hash", "published_revision", "published_hash", "published_at",
                  "has_unpublished_changes"]
        read_only_fields = ["phase_override", "created_at", "updated_at"]

    content_hash = serializers.SerializerMethodField(
        help_text="Hash of the working copy's public fields: what POST .../publish/ takes.")
    published_revision = serializers.SerializerMethodField(
        help_text="Number of the revision the public pages show; null until first published.")
    published_hash = serializers.SerializerMethodField()
    published_at = serializers.SerializerMethodField()
    has_unpublished_changes = serializers.SerializerMethodField(
        help_text="The public fields were changed since the last publication (or never published).")

    def get_content_hash(self, obj: Event) -> str | None:
        latest = getattr(obj, "latest_hash", None)
        if latest is None and not hasattr(obj, "latest_hash"):
            revision = obj.revisions.order_by("-number").first()
            latest = revision.content_hash if revision else None
        return latest

    def get_published_revision(self, obj: Event) -> int | None:
        return obj.published_revision.number if obj.published_revision_id else None

    def get_published_hash(self, obj: Event) -> str | None:
        return obj.published_revision.content_hash if obj.published_revision_id else None

    def get_published_at(self, obj: Event) -> datetime | None:
        return obj.published_revision.published_at if obj.published_revision_id else None

    def get_has_unpublished_changes(self, obj: Event) -> bool:
        return self.get_content_hash(obj) != self.get_published_hash(obj)


class EventPublishSerializer(serializers.Serializer):
    content_hash = serializers.CharField(max_length=64, help_text="The hash of the version you reviewed "
                                                                  "(the event's content_hash); 409 if it changed.")


class PhaseOverrideSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=["before", "during", "after"], allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class CampaignSerializer(serializers.ModelSerializer):
    team = VisibleTeamField(required=False)
    event = IdRelatedField(queryset=Event.objects.none(), allow_null=True, required=False)

    class Meta:
        model = Campaign
        fields = ["id", "name", "event", "team", "description", "archived", "created_at"]
        read_only_fields = ["created_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["event"].queryset = policy_for(Event).queryset(request.user, "view")


class MediaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = MediaAsset
        fields = ["id", "variant", "url", "mime", "width", "height", "sha256", "alt_text", "position"]

    def get_url(self, obj: MediaAsset) -> str:
        return reverse("campaigns:media", kwargs={"pk": obj.pk})


class VariantSerializer(serializers.ModelSerializer):
    channels = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    direction = serializers.CharField(read_only=True)

    class Meta:
        model = Variant
        fields = ["id", "language", "format", "body", "channels", "segment", "machine_suggested", "human_edited",
                  "direction"]


class VariantWriteSerializer(serializers.Serializer):
    language = serializers.CharField(max_length=8)
    format = serializers.ChoiceField(choices=VariantFormat.choices, default=VariantFormat.STANDARD)
    body = serializers.CharField(max_length=10_000, trim_whitespace=False)
    channels = IdListField(required=False, default=list)
    segment = IdField(required=False, allow_null=True)
    machine_suggested = serializers.BooleanField(required=False, default=False)


class VariantPatchSerializer(serializers.Serializer):
    language = serializers.CharField(max_length=8, required=False)
    format = serializers.ChoiceField(choices=VariantFormat.choices, required=False)
    body = serializers.CharField(max_length=10_000, required=False, trim_whitespace=False)
    channels = IdListField(required=False)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.PrimaryKeyRelatedField(read_only=True)
    author_name = serializers.CharField(source="author.display_name", read_only=True)
    channels = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    segments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    variants = VariantSerializer(many=True, read_only=True)
    media = MediaSerializer(many=True, read_only=True)
    event = serializers.IntegerField(source="campaign.event_id", read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = ["id", "campaign", "event", "team", "title", "body", "language", "urgency", "instructive", "links",
                  "hashtags", "channels", "segments", "cap", "status", "author", "author_name", "variants", "media",
                  "scheduled_at", "content_hash", "approved_hash", "version", "approved_by", "approved_at",
                  "emergency_self_approved", "emergency_reviewed_at", "correction_of", "submitted_at",
                  "published_at", "created_at", "updated_at"]
        read_only_fields = fields


class MessageWriteSerializer(serializers.Serializer):
    campaign = IdField(required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(max_length=10_000, required=False, trim_whitespace=False)
    language = serializers.CharField(max_length=8, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    instructive = serializers.BooleanField(required=False)
    links = serializers.ListField(child=serializers.CharField(max_length=500), required=False)
    hashtags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    channels = IdListField(required=False)
    segments = IdListField(required=False)
    cap = serializers.DictField(required=False)
    variants = VariantWriteSerializer(many=True, required=False)
    correction_of = IdField(required=False, allow_null=True)
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class ApproveSerializer(serializers.Serializer):
    # Required, but checked by the service after permission and state (403 and 409 come first).
    content_hash = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                         help_text="Required: the content hash you reviewed. Missing: 400; "
                                                   "the content changed since: 409.")


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000)


class ScheduleSerializer(serializers.Serializer):
    scheduled_at = serializers.DateTimeField(allow_null=True, required=False,
                                             help_text="ISO 8601 with offset; empty or a time in the past means now "
                                                       "(the answer says so in sending_now).")
    send_now = serializers.BooleanField(required=False, default=False,
                                        help_text="Send at once, explicitly (leave scheduled_at out).")


class ScheduleResultSerializer(MessageSerializer):
    sending_now = serializers.BooleanField(read_only=True, help_text="True: it goes out now, not at a later time.")
    notice = serializers.CharField(read_only=True, help_text="What happened, in a sentence.")

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "sending_now", "notice"]


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                   help_text="Required: why it is withdrawn (kept in the history). Missing: 400.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    team = IdField(
        required=False, allow_null=True,
        help_text="Pause: the team and the teams below it. Empty: your own force (a force-level supervisor), or "
                  "every force (platform operators only)")


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    alt_text = serializers.CharField(max_length=1000, allow_blank=True, default="")
    variant = IdField(required=False, allow_null=True)


class CheckRequestSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20_000, trim_whitespace=False, allow_blank=True)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=ChannelKind.choices), default=list)
    language = serializers.CharField(max_length=8, default="en")
    # The message's own hashtags (they go out with it on X, Mastodon, Facebook and Telegram) and its
    # event's, which the "hashtag.missing" warning asks for.
    hashtags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    event_hashtags = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                           default=list, max_length=50)
    instructive = serializers.BooleanField(default=True)
    alt_texts = serializers.ListField(child=serializers.CharField(allow_blank=True, max_length=1000),
                                      required=False, default=list)
    team = IdField(required=False)


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning"])
    message = serializers.CharField()
    span = serializers.ListField(child=serializers.IntegerField(), allow_null=True)


class VisibleChannelField(IdRelatedField):
    """A channel the caller can see: another force's id answers like an unknown one."""

    def get_queryset(self):
        request = self.context.get("request")
        return policy_for(Channel).queryset(request.user if request else None, "view")


class PartnerSerializer(serializers.ModelSerializer):
    channel = VisibleChannelField(required=False, allow_null=True)

    class Meta:
        model = Partner
        fields = ["id", "name", "kind", "channel", "contact_note"]


class SegmentSerializer(serializers.ModelSerializer):
    team = VisibleTeamField(required=False)
    languages = serializers.ListField(child=serializers.CharField(max_length=8), required=False)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=ChannelKind.choices), required=False)
    areas = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    needs = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    partners = PartnerSerializer(many=True, required=False)

    class Meta:
        model = Segment
        fields = ["id", "team", "name", "description", "languages", "channels", "areas", "needs", "partners",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        # No unique-together validator: it would make ``team`` required (the view defaults it), and
        # the service reports a taken name as {"name": [...]}.
        validators: list = []


class ChannelSerializer(serializers.ModelSerializer):
    team = VisibleTeamField(required=False)
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    config = serializers.DictField(required=False, help_text="Secret keys (tokens, passwords) are write-only.")
    secrets_set = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = ["id", "team", "kind", "name", "config", "secrets_set", "is_active", "health", "health_detail",
                  "health_checked_at", "token_expires_at", "token_warning", "created_at"]
        read_only_fields = ["health", "health_detail", "health_checked_at", "token_expires_at", "token_warning",
                            "created_at"]
        validators: list = []  # as for segments: the service checks the name is free

    def get_secrets_set(self, obj: Channel) -> list[str]:
        return obj.secret_names

    def to_representation(self, instance: Channel) -> dict[str, Any]:
        data = super().to_representation(instance)
        # Only the kind's known, non-secret settings: never a secret, nor an unknown key stored before
        # the schema was enforced.
        schema = schema_for(instance.kind)
        data["config"] = {k: v for k, v in (instance.config or {}).items() if k in schema and not schema[k].secret}
        return data


class DeliverySerializer(serializers.ModelSerializer):
    channel_name = serializers.CharField(source="channel.name", read_only=True)
    channel_kind = serializers.CharField(source="channel.kind", read_only=True)
    language = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = ["id", "message", "variant", "language", "channel", "channel_name", "channel_kind", "status",
                  "attempts", "due_at", "next_attempt_at", "sent_at", "external_id", "external_url", "last_error",
                  "needs_review", "manual_takedown", "urgent", "stats_views", "stats_shares", "stats_replies",
                  "stats_likes", "stats_fetched_at"]
        read_only_fields = fields

    def get_language(self, obj: Delivery) -> str:
        return obj.variant.language if obj.variant_id else obj.message.language

    def to_representation(self, instance: Delivery) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["external_url"] = safe_external_url(data.get("external_url"))  # a link only if plain http(s)
        return data

class ListRecipientSerializer(serializers.Serializer):
    """A person on an SMS or email list. The address is write-only: lists show it masked; the
    audited export gives it in the clear."""

    id = serializers.IntegerField(read_only=True)
    channel = serializers.IntegerField(source="channel_id", min_value=1, max_value=2**63 - 1)
    address = serializers.CharField(write_only=True, max_length=254)
    address_masked = serializers.SerializerMethodField()
    language = serializers.CharField(max_length=16, default="en")
    segments = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                     default=list, max_length=100, write_only=True,
                                     help_text="Segment ids (of the channel's team); read back as ids")
    consent_source = serializers.CharField(max_length=100)
    consented_at = serializers.DateTimeField(read_only=True)
    opted_out_at = serializers.DateTimeField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_address_masked(self, obj: Any) -> str:
        from campaigns.services.recipients import mask_address

        return mask_address(obj.address)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["segments"] = sorted(s.pk for s in instance.segments.all())
        return data


class ListRecipientImportSerializer(serializers.Serializer):
    channel = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    text = serializers.CharField(max_length=1_000_000, help_text="One address per line, or address,language")
    language = serializers.CharField(max_length=16, default="en")
    segments = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                     default=list, max_length=100)
    consent_source = serializers.CharField(max_length=100)


class ListRecipientExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    address = serializers.CharField()
    language = serializers.CharField()
    segments = serializers.ListField(child=serializers.IntegerField())
    consent_source = serializers.CharField()
    consented_at = serializers.DateTimeField()
    opted_out_at = serializers.DateTimeField(allow_null=True)


class OptOutSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
