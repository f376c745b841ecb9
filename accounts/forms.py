from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": _("That email address and password do not match. Check them and try again."),
        "inactive": _("This account is switched off. Ask your administrator."),
    }


class OtpForm(forms.Form):
    otp = forms.RegexField(
        label=_("6-digit code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        error_messages={"invalid": _("Enter the 6 digits shown in your app.")},
    )


class AuditFilterForm(forms.Form):
    verb = forms.CharField(required=False, label=_("Action starts with"))
    actor = forms.CharField(required=False, label=_("Person"))
    target_type = forms.CharField(required=False, label=_("Object type"))
    target_id = forms.CharField(required=False, label=_("Object id"))
    since = forms.DateTimeField(required=False, label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(required=False, label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class SiteUrlPasswordResetForm(PasswordResetForm):
    """The reset link points at ``ENGAGE_SITE_URL``, never at the request's Host header: a forged
    Host would otherwise send the one-time link (and so the account) to the forger's server."""

    def save(self, **kwargs: Any) -> None:
        site = urlsplit(settings.ENGAGE_SITE_URL)
        kwargs["domain_override"] = site.netloc
        kwargs["use_https"] = site.scheme == "https"
        super().save(**kwargs)


class ReadingLanguagesForm(forms.Form):
    languages = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label=_("Languages I read"),
        help_text=_("Replies in these languages are offered to you first."),
        error_messages={"invalid_choice": _("Unknown language code: %(value)s.")})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from accounts import languages

        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = languages.choices()


class DeskLanguageForm(forms.Form):
    language = forms.ChoiceField(widget=forms.RadioSelect, label=_("Language of the desk"),
                                 error_messages={"invalid_choice": _("Choose English or Cymraeg.")})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from accounts.models import DESK_LANGUAGES

        super().__init__(*args, **kwargs)
        self.fields["language"].choices = DESK_LANGUAGES
