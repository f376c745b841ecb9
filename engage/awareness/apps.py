from django.apps import AppConfig


class AwarenessConfig(AppConfig):
    name = "engage.awareness"
    label = "awareness"
    verbose_name = "Engage: event awareness (public signals, aggregate only)"
    default_auto_field = "django.db.models.BigAutoField"
