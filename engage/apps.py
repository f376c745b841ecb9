from django.apps import AppConfig


class EngageConfig(AppConfig):
    name = "engage"
    verbose_name = "Engage: public face and citizen replies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bind shared tasks to our Celery app in every process (web, worker, beat).
        from engage.celery import app  # noqa: F401
