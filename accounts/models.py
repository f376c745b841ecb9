"""Who may do what: users (email sign-in), teams, roles per team, and the audit trail."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models, router, transaction
from django.utils import timezone as dj_timezone
from django.utils.crypto import salted_hmac


class Role(models.TextChoices):
    OFFICER = "officer", "Communications officer"
    SUPERVISOR = "supervisor", "Supervisor"
    LIAISON = "liaison", "Community liaison"
    ADMIN = "admin", "Administrator"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


# The staff desk's languages: each has the desk's words in locale/<code>/LC_MESSAGES/django.po.
DESK_LANGUAGES = [("en", "English"), ("cy", "Cymraeg")]


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin site.")
    date_joined = models.DateTimeField(default=dj_timezone.now)
    # Raised by "sign out everywhere" and second-factor changes: every session signed before no
    # longer verifies (see _get_session_auth_hash). A password change does that by itself.
    session_generation = models.PositiveIntegerField(default=0, editable=False)
    # Language codes this person reads (``accounts.languages``): replies in them are offered to them first.
    reads_languages = models.JSONField(default=list, blank=True)
    # The language of the staff desk's own words for this person (``accounts.middleware.DeskLanguageMiddleware``):
    # not the public pages' (the visitor's choice), and not the languages they read.
    desk_language = models.CharField(max_length=8, choices=DESK_LANGUAGES, default="en")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django stores this in the session at sign-in and signs the session out when it no longer
        # matches. Generation 0 keeps Django's own value, so existing sessions survive the upgrade.
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac("engage.accounts.User.session_auth_hash", f"{self.password}:{self.session_generation}",
                           secret=secret, algorithm="sha256").hexdigest()


class Team(models.Model):
    """A force, a unit or a desk. Teams nest: a force contains its units."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    timezone = models.CharField(max_length=64, default=settings.ENGAGE_DEFAULT_TIMEZONE)
    # Per-team switches (checker rules, two approvals for priority, coverage as error, SLAs...).
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def setting(self, key: str, default: Any = None) -> Any:
        return (self.settings or {}).get(key, default)


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    # The purpose boundary: only these users see the restricted intelligence queue.
    intelligence_liaison = models.BooleanField(default=False)
    on_duty = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_role_per_team")]
        ordering = ["team__name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.team}"


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit trail is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise PermissionError("The audit trail is append-only.")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        """Each row linked into the hash chain (``accounts.audit_chain``), in one transaction; like
        ``bulk_create``, no signals are sent."""
        from accounts import audit_chain

        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise PermissionError("The audit trail is append-only.")
        objs = list(objs)
        if any(obj.pk is not None for obj in objs):
            raise PermissionError("The audit chain gives each row its id.")
        plain = models.QuerySet(model=self.model, using=self.db)
        with transaction.atomic(using=self.db, savepoint=False):
            for obj in objs:
                audit_chain.link(obj, self.db)
                plain.bulk_create([obj])
        return objs


class AuditEvent(models.Model):
    """One line of the append-only audit trail. Never updated, never deleted.

    The ORM refuses updates and deletes here; the database refuses them too (a trigger,
    see migration 0002), so a raw query cannot rewrite history either. And a database
    administrator who drops the trigger cannot rewrite it unseen: each row is a link of a
    hash chain (``prev_hash``, ``chain_hash``; see ``accounts.audit_chain``), given its id
    and hashes as it is inserted, and ``manage.py audit_verify`` checks the chain.
    """

    at = models.DateTimeField(default=dj_timezone.now, db_index=True)
    # No foreign-key constraints in the database (the ORM still protects the user and the team): the
    # constraint checks would lock the user's and team's rows at commit, while this transaction holds
    # the audit chain head, and another transaction holding those rows could be waiting for the head.
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              db_constraint=False)
    actor_label = models.CharField(max_length=254, blank=True, help_text="Email at the time, or 'system'.")
    verb = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True, db_index=True)
    target_id = models.CharField(max_length=64, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             db_constraint=False)
    summary = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False, help_text="The chain hash of the row before.")
    chain_hash = models.CharField(max_length=64, editable=False,
                                  help_text="SHA-256 of the previous hash, this row's id and its content.")

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        # Every insert goes through the chain, including those of code that saves through the base
        # manager (accounts.onestatement on SQLite).
        base_manager_name = "objects"
        constraints = [
            models.CheckConstraint(condition=~models.Q(prev_hash="") & ~models.Q(chain_hash=""),
                                   name="audit_row_chained"),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["team", "-at"], name="audit_team_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb} {self.target_type}:{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert the row as the next link of the hash chain, in one transaction with the head's move."""
        from accounts import audit_chain

        if self.pk is not None:
            raise PermissionError("The audit trail is append-only." if not kwargs.get("force_insert")
                                  else "The audit chain gives each row its id.")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            audit_chain.link(self, using)
            super().save(*args, **{**kwargs, "force_insert": True, "using": using})

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only.")


class AuditChainHead(models.Model):
    """The head of the audit hash chain: one row (id 1), moved on with each audit row in its
    transaction. Its row lock serialises the writers; ``audit_verify`` checks it names the last row."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    last_id = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.last_id}:{self.last_hash}"


class AuditHeadPublication(models.Model):
    """A chain head as published (once a day): the exact signed text, its signature and the key.
    Kept for good, so that anyone can check any day's head; see ``accounts.audit_publish``."""

    published_at = models.DateTimeField(db_index=True)
    last_id = models.BigIntegerField(help_text="The id of the last audit row covered.")
    last_hash = models.CharField(max_length=64)
    payload = models.TextField(help_text="The canonical JSON that was signed.")
    signature = models.CharField(max_length=128, help_text="Base64 Ed25519 signature of the payload.")
    key_id = models.CharField(max_length=80)
    public_key = models.TextField(help_text="The signing key's public half (PEM).")

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return f"{self.published_at:%Y-%m-%d} {self.last_id}:{self.last_hash}"


class Notification(models.Model):
    """An in-app alert: a failed delivery, an urgent reply, an emergency to review."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.user}: {self.text[:60]}"


class NotificationPreference(models.Model):
    """A person's choice for one kind of alert (``accounts.notify.KINDS``): no row means both are on."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=40)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind}"


class ApiTokenGrant(models.Model):
    """How an API token was issued. knox keeps only the token's digest; this keeps whether the
    second factor was checked, so a token issued on a password alone stops working the moment
    its user must use 2FA (see ``accounts.api.auth``)."""

    token = models.OneToOneField("knox.AuthToken", primary_key=True, on_delete=models.CASCADE,
                                 related_name="engage_grant")
    otp_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return f"Token grant ({'with' if self.otp_verified else 'without'} second factor)"
