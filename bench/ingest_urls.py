"""Bench only (loaded by bench/ingest.py through bench/ingest_settings.py, never by the app):
the real URLs plus a bare DRF create view on the replies table, the baseline for the ingest bench."""

from django.urls import include, path
from rest_framework import generics, permissions, serializers

from engage.models import Reply


class BaselineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reply
        fields = ["team", "channel", "source", "provider_id", "text", "author_handle", "received_at"]


class BaselineCreate(generics.CreateAPIView):
    """What the simplest possible endpoint does: parse JSON, validate, INSERT, 201."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = BaselineSerializer


urlpatterns = [
    path("bench/baseline/", BaselineCreate.as_view()),
    path("", include("engage.urls")),
]
