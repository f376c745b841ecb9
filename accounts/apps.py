from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts, roles and audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import signals  # sign-in auditing

        signals.connect_credential_signals()
        from accounts.policies import accounts as account_policies

        account_policies.register_all()
