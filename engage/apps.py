from django.apps import AppConfig


class EngageConfig(AppConfig):
    name = "engage"
    verbose_name = "Engage: public face and citizen replies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bind shared tasks to our Celery app in every process (web, worker, beat), and connect
        # the public page cache's invalidation there too (a worker publishes and withdraws).
        from engage.celery import app  # noqa: F401
        from engage.public import cache as public_cache

        public_cache.connect()
        # The channel page's inbound section (webhook URLs, last item, ignored items) for administrators.
        from campaigns import channel_panels
        from engage.inbound.channels import inbound_panels

        channel_panels.register(inbound_panels)
        from engage.inbound import access

        access.register_all()
