"""Serializers for replies, answers and the trust metrics. Read shapes and request bodies only:
writes go through the services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.ids import IdField, IdListField, parse_id
from core.pii import mask_pii
from engage.inbound.classify.category import CATEGORIES
from engage.inbound.identity import author_label, mask_handle
from engage.inbound.triage import SENTIMENTS
from engage.models import (
    AnswerStatus,
    AnswerTemplate,
    ClassificationCorrection,
    Reply,
    ReplyAnswer,
    ReplyNote,
    ReplyStatus,
)


class ReplySerializer(serializers.ModelSerializer):
    """A reply as lists show it: personal data masked, the author as a stable pseudonym."""

    text = serializers.SerializerMethodField(help_text="Sanitised text, personal data masked")
    author = serializers.SerializerMethodField(help_text="A pseudonym: the same person gets the same label")
    author_handle = serializers.SerializerMethodField(help_text="Masked unless revealed")
    channel_name = serializers.SerializerMethodField()
    campaign = serializers.SerializerMethodField()
    event = serializers.SerializerMethodField()
    overdue = serializers.BooleanField(read_only=True)
    personal_data_revealed = serializers.SerializerMethodField()
    # Plain strings in the schema: "status" names several enums across the API (messages, deliveries).
    status = serializers.CharField(read_only=True, help_text=f"One of: {', '.join(ReplyStatus.values)}")

    class Meta:
        model = Reply
        fields = [
            "id", "text", "author", "author_handle", "source", "channel", "channel_name", "message", "campaign",
            "event", "language", "sentiment", "sentiment_score", "category", "category_confidence", "urgent",
            "urgent_terms", "pii_kinds", "status", "assignee", "restricted", "legal_hold", "received_at",
            "processed_at", "sla_due_at", "overdue", "first_response_at", "closed_at", "redacted_at",
            "personal_data_revealed",
        ]
        read_only_fields = fields

    def _revealed(self) -> bool:
        return bool(self.context.get("reveal"))

    def get_text(self, reply: Reply) -> str:
        if self._revealed():
            return reply.text
        if reply.processed_at is not None:
            return reply.text_masked
        return mask_pii(reply.text)

    def get_author(self, reply: Reply) -> str:
        return author_label(reply.author_key)

    def get_author_handle(self, reply: Reply) -> str:
        return reply.author_handle if self._revealed() else mask_handle(reply.author_handle)

    def get_channel_name(self, reply: Reply) -> str:
        return reply.channel.name if reply.channel_id else "Public form"

    def get_campaign(self, reply: Reply) -> int | None:
        return reply.message.campaign_id if reply.message_id else None

    def get_event(self, reply: Reply) -> int | None:
        return reply.message.campaign.event_id if reply.message_id else None

    def get_personal_data_revealed(self, reply: Reply) -> bool:
        return self._revealed()


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.email", read_only=True)

    class Meta:
        model = ReplyNote
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = fields


class AnswerSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=f"One of: {', '.join(AnswerStatus.values)}")

    class Meta:
        model = ReplyAnswer
        fields = ["id", "kind", "template", "message", "body", "language", "status", "attempts", "sent_at",
                  "external_id", "last_error", "created_by", "created_at"]
        read_only_fields = fields


class CorrectionSerializer(serializers.ModelSerializer):
    corrected_by = serializers.CharField(source="corrected_by.email", read_only=True)

    class Meta:
        model = ClassificationCorrection
        fields = ["field", "old_value", "new_value", "corrected_by", "created_at"]
        read_only_fields = fields


class ReplyDetailSerializer(ReplySerializer):
    """One reply with its notes, answers and corrections. ``author_name`` and ``raw_text`` only
    when the personal data was revealed (and the reveal audited)."""

    author_name = serializers.SerializerMethodField()
    raw_text = serializers.SerializerMethodField()
    notes = NoteSerializer(many=True, read_only=True)
    answers = AnswerSerializer(many=True, read_only=True)
    corrections = CorrectionSerializer(many=True, read_only=True)
    in_reply_to = serializers.CharField(read_only=True)
    delivery = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(ReplySerializer.Meta):
        fields = [*ReplySerializer.Meta.fields, "author_name", "raw_text", "in_reply_to", "delivery",
                  "processing_error", "notes", "answers", "corrections"]
        read_only_fields = fields

    def get_author_name(self, reply: Reply) -> str | None:
        return reply.author_name if self._revealed() else None

    def get_raw_text(self, reply: Reply) -> str | None:
        return reply.raw_text if self._revealed() else None


def _reply_status(value: str) -> str:
    if value not in ReplyStatus.values:
        raise serializers.ValidationError(f"Choose one of {', '.join(ReplyStatus.values)}.")
    return value


class ReplyPatchSerializer(serializers.Serializer):
    status = serializers.CharField(required=False, validators=[_reply_status],
                                   help_text=f"One of: {', '.join(ReplyStatus.values)}")
    assignee = IdField(required=False, allow_null=True)
    category = serializers.ChoiceField(choices=CATEGORIES, required=False)
    sentiment = serializers.ChoiceField(choices=SENTIMENTS, required=False)
    urgent = serializers.BooleanField(required=False)
    legal_hold = serializers.BooleanField(required=False)


class RespondSerializer(serializers.Serializer):
    template = IdField(required=False)
    body = serializers.CharField(required=False, allow_blank=False, max_length=5000, trim_whitespace=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("template" in attrs) == ("body" in attrs):
            raise serializers.ValidationError({"non_field_errors": ["Give either a template or a body."]})
        return attrs


class NoteWriteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class EscalateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class BulkSerializer(serializers.Serializer):
    ids = IdListField(min_length=1, max_length=200)
    action = serializers.ChoiceField(choices=["assign", "unassign", "status", "close"])
    assignee = serializers.CharField(required=False, help_text="A user id, or 'me'")
    status = serializers.CharField(required=False, validators=[_reply_status],
                                   help_text=f"One of: {', '.join(ReplyStatus.values)}")


class EraseSerializer(serializers.Serializer):
    handle = serializers.CharField(max_length=200)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AnswerTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnswerTemplate
        fields = ["id", "team", "title", "purpose", "language", "body", "approved_by", "approved_at"]
        read_only_fields = fields


class HeldAnswerSerializer(serializers.Serializer):
    send = serializers.BooleanField(help_text="true: send it now; false: drop it")


class ReplyQuerySerializer(serializers.Serializer):
    """The list's query parameters, named after the fields."""

    event = IdField(required=False)
    campaign = IdField(required=False)
    segment = IdField(required=False)
    channel = IdField(required=False)
    team = IdField(required=False)
    language = serializers.CharField(required=False, max_length=16)
    category = serializers.ChoiceField(choices=CATEGORIES, required=False)
    sentiment = serializers.ChoiceField(choices=SENTIMENTS, required=False)
    status = serializers.CharField(required=False, help_text="One status, or several separated by commas")
    source = serializers.CharField(required=False, max_length=12)
    assignee = serializers.RegexField(r"^(me|none|[0-9]{1,19})$", required=False, help_text="A user id, 'me' or 'none'")
    urgent = serializers.BooleanField(required=False, allow_null=True, default=None)
    restricted = serializers.BooleanField(required=False, allow_null=True, default=None)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    open = serializers.BooleanField(required=False, allow_null=True, default=None)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    order = serializers.ChoiceField(choices=["", "urgent", "newest"], required=False, default="")

    def validate_assignee(self, value: str) -> str:
        if value not in ("me", "none") and parse_id(value) is None:
            raise serializers.ValidationError("A valid id is required.")
        return value

    def validate_status(self, value: str) -> list[str]:
        statuses = [s.strip() for s in value.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in ReplyStatus.values]
        if unknown:
            raise serializers.ValidationError(f"Unknown status: {', '.join(unknown)}.")
        return statuses


class MetricsQuerySerializer(serializers.Serializer):
    event = IdField(required=False)
    segment = IdField(required=False)
    channel = IdField(required=False)
    team = IdField(required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
