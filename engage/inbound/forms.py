"""Forms for the triage inbox, its settings, and the public contact form."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.languages import english_name
from core.ids import IdFormField
from engage.inbound.classify.category import CATEGORIES
from engage.inbound.policies import URGENT
from engage.inbound.triage import SENTIMENTS
from engage.models import ReplySource, ReplyStatus, TemplatePurpose

_BLANK = [("", _("Any"))]
# The words of the filter's choices, for the catalogs (shown through gettext_lazy in :func:`_choices`).
CHOICE_WORDS = (
    gettext_noop("Question"), gettext_noop("Information"), gettext_noop("Complaint"), gettext_noop("Praise"),
    gettext_noop("Rumour"), gettext_noop("Emergency"), gettext_noop("Crime report"), gettext_noop("Abuse"),
    gettext_noop("Spam"), gettext_noop("Positive"), gettext_noop("Neutral"), gettext_noop("Negative"),
    gettext_noop("Unknown"), gettext_noop("Telegram"), gettext_noop("SMS"), gettext_noop("Partner webhook"),
    gettext_noop("Mastodon"), gettext_noop("Public form"),
)
NONCE = re.compile(r"^[0-9a-f]{32}$")


def _choices(values: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    return [(v, _(v.replace("_", " ").capitalize())) for v in values]  # noqa: INT001 - words in CHOICE_WORDS


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, label=_("Status"), choices=[
        ("open", _("Open")), ("", _("Any")), *[(v, _(label)) for v, label in ReplyStatus.choices]])  # noqa: INT001
    category = forms.ChoiceField(required=False, label=_("Category"), choices=_BLANK + _choices(CATEGORIES))
    sentiment = forms.ChoiceField(required=False, label=_("Sentiment"), choices=_BLANK + _choices(SENTIMENTS))
    language = forms.CharField(required=False, max_length=16, label=_("Language"))
    source = forms.ChoiceField(required=False, label=_("Source"), choices=_BLANK + [
        (v, _(label)) for v, label in ReplySource.choices])  # noqa: INT001 - words in CHOICE_WORDS
    channel = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Channel"))
    event = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Event"))
    campaign = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Campaign"))
    segment = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Segment"))
    assignee = forms.ChoiceField(required=False, label=_("Assignee"))
    urgent = forms.BooleanField(required=False, label=_("Urgent only"))
    overdue = forms.BooleanField(required=False, label=_("Overdue only"))
    restricted = forms.BooleanField(required=False, label=_("Restricted queue"))
    order = forms.ChoiceField(required=False, label=_("Order"), choices=[
        ("", _("Urgent first, then oldest")), ("newest", _("Newest first"))])

    def __init__(self, *args: Any, channels: list, events: list, campaigns: list, segments: list, users: list,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = _BLANK + [(c.pk, c.name) for c in channels]
        self.fields["event"].choices = _BLANK + [(e.pk, e.name) for e in events]
        self.fields["campaign"].choices = _BLANK + [(c.pk, c.name) for c in campaigns]
        self.fields["segment"].choices = _BLANK + [(g.pk, g.name) for g in segments]
        self.fields["assignee"].choices = _BLANK + [("me", _("Me")), ("none", _("Nobody"))] + [
            (str(u.pk), u.display_name) for u in users]


class BulkForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int)
    action = forms.ChoiceField(choices=[("assign-me", _("Assign to me")), ("assign", _("Assign to…")),
                                        ("unassign", _("Unassign")), ("triaged", _("Mark triaged")),
                                        ("close", _("Close"))])
    assignee = IdFormField(required=False)

    def __init__(self, *args: Any, ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(i, i) for i in ids]


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label=_("Assign to"))

    def __init__(self, *args: Any, users: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Nobody"))] + [(u.pk, u.display_name) for u in users]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[(v, _(label)) for v, label in ReplyStatus.choices])  # noqa: INT001


class CorrectionForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=_choices(CATEGORIES))
    sentiment = forms.ChoiceField(label=_("Sentiment"), choices=_choices(SENTIMENTS))
    urgent = forms.BooleanField(required=False, label=_("Urgent"))


class NoteForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, label=_("Internal note"))


class EscalateForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500, label=_("Why (the supervisors see this)"))


class RespondForm(forms.Form):
    template = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label=_("Pre-approved answer"))
    body = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
                           label=_("Or write an answer (it will need approval)"))

    def __init__(self, *args: Any, templates: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", _("Choose a template"))] + [
            (t.pk, f"{t.title} ({english_name(t.language)})") for t in templates]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("template")) == bool((data.get("body") or "").strip()):
            raise forms.ValidationError(_("Choose a pre-approved answer or write one, not both."))
        return data


class RightsForm(forms.Form):
    handle = forms.CharField(max_length=200, label=_("Handle or phone number"))
    action = forms.ChoiceField(choices=[("export", _("Export everything (subject access)")),
                                        ("erase", _("Erase everything"))], widget=forms.RadioSelect)
    reason = forms.CharField(required=False, max_length=300, label=_("Reason or request reference"))
    confirm = forms.BooleanField(required=False, label=_("I understand that erasure cannot be undone"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "erase" and not data.get("confirm"):
            raise forms.ValidationError(_("Tick the box to confirm the erasure."))
        return data


class TemplateForm(forms.Form):
    title = forms.CharField(max_length=200, label=_("Title"))
    language = forms.CharField(max_length=16, initial="en", label=_("Language"))
    purpose = forms.ChoiceField(choices=[(v, _(label)) for v, label in TemplatePurpose.choices],  # noqa: INT001
                                label=_("Purpose"))
    body = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), label=_("Text"))


class SlaForm(forms.Form):
    category = forms.ChoiceField(choices=[(URGENT, _("Urgent (any category)"))] + _choices(CATEGORIES),
                                 label=_("Category"))
    minutes = forms.IntegerField(required=False, min_value=1, max_value=60 * 24 * 30, label=_("Minutes"),
                                 help_text=_("Empty: no response clock"))


class RetentionForm(forms.Form):
    category = forms.ChoiceField(choices=_choices(CATEGORIES), label=_("Category"))
    days = forms.IntegerField(min_value=1, max_value=3650, label=_("Days"))


class RuleForm(forms.Form):
    language = forms.CharField(max_length=16, initial="*", label=_("Language"),
                               help_text=_("ISO 639-1 code, or * for every language"))
    category = forms.ChoiceField(choices=_choices(CATEGORIES), label=_("Category"))
    pattern = forms.CharField(max_length=500, label=_("Pattern"),
                              help_text=_("A regular expression, matched case-insensitively"))
    weight = forms.FloatField(min_value=0.1, max_value=5, initial=1.0, label=_("Weight"))


class PublicReplyForm(forms.Form):
    """The public form. ``website`` is a honeypot: hidden from people, filled in by bots."""

    text = forms.CharField(label="Your message", max_length=10_000, error_messages={
                               "required": _("Please write your message."),
                               "max_length": _("Your message is too long. Please make it shorter.")},
                           widget=forms.Textarea(attrs={"rows": 6, "dir": "auto"}))
    contact = forms.CharField(label="Email address or phone number (optional)", required=False, max_length=200,
                              help_text="Only if you would like an answer. Leave it empty to stay anonymous.",
                              widget=forms.TextInput(attrs={"autocomplete": "email", "dir": "auto"}))
    name = forms.CharField(label="Your name (optional)", required=False, max_length=200,
                           widget=forms.TextInput(attrs={"autocomplete": "name", "dir": "auto"}))
    website = forms.CharField(required=False, label="Leave this empty",
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))
    nonce = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["nonce"] = secrets.token_hex(16)

    def clean_nonce(self) -> str:
        value = self.cleaned_data.get("nonce") or ""
        return value if NONCE.match(value) else secrets.token_hex(16)

    def clean_contact(self) -> str:
        value = (self.cleaned_data.get("contact") or "").strip()
        if value and not (re.match(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", value)
                          or re.match(r"^\+?[\d\s\-().]{7,20}$", value)):
            raise forms.ValidationError(_("Give an email address or a phone number, or leave it empty."))
        return value

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get("website") or "").strip())
