from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Outbound: what we say"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns import (
            checks,  # noqa: F401 - registers the system checks
            policies,
        )

        policies.register_all()
