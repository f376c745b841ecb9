from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": "That email address and password do not match. Check them and try again.",
        "inactive": "This account is switched off. Ask your administrator.",
    }


class OtpForm(forms.Form):
    otp = forms.RegexField(
        label="6-digit code from your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        error_messages={"invalid": "Enter the 6 digits shown in your app."},
    )


class AuditFilterForm(forms.Form):
    verb = forms.CharField(required=False, label="Action starts with")
    actor = forms.CharField(required=False, label="Person")
    target_type = forms.CharField(required=False, label="Object type")
    target_id = forms.CharField(required=False, label="Object id")
    since = forms.DateTimeField(required=False, label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(required=False, label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
