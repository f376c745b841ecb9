from django.apps import AppConfig


class AwarenessConfig(AppConfig):
    name = "engage.awareness"
    label = "awareness"
    verbose_name = "Engage: event awareness (public signals, aggregate only)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import permissions
        from accounts.policies import ModelPolicy, register
        from engage.awareness.models import Watch

        # A watch belongs to its event's team; its panel and list are for that team's desk.
        register(Watch, ModelPolicy(team_path="event__team", action_roles={"view": permissions.AWARENESS_VIEWERS}))
