from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from campaigns.models import ChannelKind, EventKind, Need, RiskLevel, Urgency, VariantFormat
from platforms.hashtags import hashtag_problem

# hashtag_problem's reasons, in the desk's words.
_HASHTAG_PROBLEMS = {
    "is empty": _("“%(tag)s” is only a #: write the tag after it, e.g. #DerbyDay."),
    "is too long": _("“%(tag)s” is too long for a hashtag: at most 50 letters and digits."),
    "has no letter": _("“%(tag)s” has no letter, so platforms do not treat it as a hashtag: add a word, "
                       "e.g. #Derby2025."),
    "has a space or a character a hashtag cannot have": _(
        "“%(tag)s” is not a hashtag: use only letters, digits and _ after the # (no spaces, punctuation "
        "or symbols), e.g. #DerbyDay."),
}


def hashtag_names(raw: str) -> list[str]:
    """The valid hashtags in a Hashtags field, names without "#" (the editor previews these even
    while the field has an error)."""
    names: list[str] = []
    for token in raw.replace(",", " ").split():
        name = token.lstrip("#") if token.startswith("#") else token
        if hashtag_problem(name) is None and name.lower() not in (n.lower() for n in names):
            names.append(name)
    return names


def clean_hashtag_field(raw: str) -> list[str]:
    """A Hashtags field ("#DerbyDay #Derby2025", spaces or commas between): the names without
    "#", once each. Anything that is not a hashtag is refused with the reason, never kept or fixed
    quietly: the tag goes out as typed."""
    names: list[str] = []
    errors: list[forms.ValidationError] = []
    for token in raw.replace(",", " ").split():
        shown = token if len(token) <= 60 else token[:59] + "…"
        if not token.startswith("#"):
            errors.append(forms.ValidationError(
                _("“%(tag)s” has no # in front. Start each hashtag with #; a hashtag cannot contain a space "
                  "(#DerbyDay, not #Derby Day)."), code="hashtag", params={"tag": shown}))
            continue
        problem = hashtag_problem(token[1:])
        if problem is not None:
            errors.append(forms.ValidationError(_HASHTAG_PROBLEMS[problem], code="hashtag", params={"tag": shown}))
            continue
        if token[1:].lower() not in (n.lower() for n in names):
            names.append(token[1:])
    if errors:
        raise forms.ValidationError(errors)
    return names

LANGUAGE_CHOICES = [("en", _("English")), ("ar", _("Arabic")), ("fa", _("Farsi")), ("ti", _("Tigrinya")),
                    ("fr", _("French")), ("pl", _("Polish")), ("ro", _("Romanian")), ("uk", _("Ukrainian")),
                    ("es", _("Spanish")), ("de", _("German")), ("cy", _("Welsh")), ("ur", _("Urdu")),
                    ("so", _("Somali")), ("bsl", _("British Sign Language (video link)"))]


def text_direction_attrs(language: str, *, source: str) -> dict[str, str]:
    """A text area's ``dir`` and ``lang`` for ``language`` (``settings.LANGUAGES_BIDI`` are right to
    left), and where the page's script finds the language when it changes (``source``, a field id)."""
    rtl = (language or "").split("-")[0].lower() in settings.LANGUAGES_BIDI
    return {"dir": "rtl" if rtl else "ltr", "lang": language or "en", "data-dir-from": source,
            "data-rtl": " ".join(settings.LANGUAGES_BIDI)}


def _labels(choices: list[tuple[str, str]]) -> list[tuple[str, Any]]:
    """A model's choices with their labels in the desk's language (the stored values, and the API, unchanged);
    the words are in the catalogs through ``campaigns.desk_labels``."""
    return [(value, _(label)) for value, label in choices]  # noqa: INT001


class MessageForm(forms.Form):
    campaign = forms.TypedChoiceField(coerce=int, label=_("Campaign"))
    title = forms.CharField(required=False, max_length=200, label=_("Title"),
                            help_text=_("Goes out as the email subject and the webhook title, and is approved "
                                        "with the message. Empty: the first line of the message."))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "data-checker": "body"}), max_length=10_000,
                           label=_("Message"))
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, initial="en", label=_("Language"))
    urgency = forms.ChoiceField(choices=_labels(Urgency.choices), initial=Urgency.ROUTINE, label=_("Urgency"))
    instructive = forms.BooleanField(required=False, initial=True, label=_("Asks people to do something"))
    channels = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
                                              label=_("Channels"))
    segments = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
                                              label=_("Audiences"))
    hashtags = forms.CharField(required=False, max_length=1000, label=_("Hashtags"),
                               help_text=_("Added to the posts on X, Mastodon, Facebook and Telegram (not to text "
                                           "messages or emails). Separated by spaces, e.g. #DerbyDay #Derby2025."))
    links = forms.CharField(required=False, label=_("Links"), widget=forms.Textarea(attrs={"rows": 2}),
                            help_text=_("One https:// address per line"))
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, campaigns: list, channels: list, segments: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [(c.pk, f"{c.name} — {c.team.name}") for c in campaigns]
        self.fields["channels"].choices = [(c.pk, f"{c.name} ({_(c.get_kind_display())})") for c in channels]
        self.fields["segments"].choices = [(g.pk, g.name) for g in segments]
        self.channel_kinds = {c.pk: c.kind for c in channels}
        language = (self.data.get("language") if self.is_bound else None) or self.initial.get("language") or "en"
        self.fields["body"].widget.attrs.update(text_direction_attrs(str(language), source="id_language"))

    def clean_hashtags(self) -> list[str]:
        return clean_hashtag_field(self.cleaned_data["hashtags"])

    def clean_links(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]


class VariantForm(forms.Form):
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, label=_("Language"))
    format = forms.ChoiceField(choices=[(v, _(label)) for v, label in VariantFormat.choices],  # noqa: INT001
                               initial=VariantFormat.STANDARD, label=_("Format"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=10_000, label=_("Text"))
    channels = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
                                              label=_("Only on these channels (none ticked: all of the message's)"))

    def __init__(self, *args: Any, channels: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = [(c.pk, c.name) for c in channels]
        language = (self.data.get("language") if self.is_bound else None) or self.initial.get("language") or "en"
        self.fields["body"].widget.attrs.update(text_direction_attrs(str(language), source="id_language"))


class CommentForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ScheduleForm(forms.Form):
    scheduled_at = forms.DateTimeField(label=_("Send at (your team's local time)"),
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                  format="%Y-%m-%dT%H:%M"),
                                       help_text=_("A time in the future. To send at once, use “Send now”."),
                                       error_messages={"required": _("Choose a time, or use “Send now” to send at "
                                                                     "once.")})

    def clean_scheduled_at(self) -> Any:
        from django.utils import timezone

        from core.timeutil import REQUEST_DATE_MESSAGE, in_request_range

        value = self.cleaned_data["scheduled_at"]
        if value is not None and not in_request_range(value):  # its UTC time would overflow: never a 500
            raise forms.ValidationError(REQUEST_DATE_MESSAGE, code="out_of_range")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError("That time has passed, so nothing was scheduled. To send the message at "
                                        "once, use “Send now”.", code="past")
        return value


class SendNowForm(forms.Form):
    confirm = forms.BooleanField(label=_("Send it now, on every channel of this message"),
                                 error_messages={"required": _("Tick the box to confirm that it goes out now.")})


class WithdrawForm(forms.Form):
    reason = forms.CharField(max_length=500, label=_("Why is it withdrawn?"),
                             help_text=_("Kept in the message's history and the audit trail."),
                             error_messages={"required": _("Say why the message is withdrawn.")})
    confirm = forms.BooleanField(
        label=_("I understand: anything not yet sent is stopped, and what was posted is deleted where the platform "
                "allows. This cannot be undone."),
        error_messages={"required": _("Tick the box to confirm the withdrawal.")})


class MediaForm(forms.Form):
    file = forms.FileField(label=_("Image (JPEG, PNG or WebP, up to 10 MB)"))
    alt_text = forms.CharField(max_length=1000, label=_("Alt text"),
                               help_text=_("Describe the image for people who cannot see it."))


class EventForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label=_("Team"))
    name = forms.CharField(max_length=200, label=_("Name"))
    kind = forms.ChoiceField(choices=_labels(EventKind.choices), label=_("Kind"))
    starts_at = forms.DateTimeField(label=_("Starts (local time)"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    ends_at = forms.DateTimeField(required=False, label=_("Ends (local time; optional for encampments)"),
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    location = forms.CharField(max_length=300, required=False, label=_("Location"))
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90, label=_("Latitude"))
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180, label=_("Longitude"))
    # At most what the column holds on every database (PositiveIntegerField: 2**31 - 1 on PostgreSQL).
    radius_m = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1, label=_("Radius (metres)"))
    expected_attendance = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1,
                                             label=_("Expected attendance"))
    hashtags = forms.CharField(required=False, help_text=_("Separated by spaces"), label=_("Hashtags"))
    risk_level = forms.ChoiceField(choices=_labels(RiskLevel.choices), initial=RiskLevel.LOW, label=_("Risk level"))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Description"))
    what_to_bring = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("What to bring"))
    prohibited_items = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                       label=_("Prohibited items"))
    help_points = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  label=_("Where to get help"))

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class SegmentForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label=_("Team"))
    name = forms.CharField(max_length=200, label=_("Name"))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Description"))
    languages = forms.CharField(required=False, label=_("Languages"),
                                help_text=_("ISO 639-1 codes in order of preference, e.g. ar fa ti"))
    channels = forms.MultipleChoiceField(choices=_labels(ChannelKind.choices),
                                         required=False, widget=forms.CheckboxSelectMultiple,
                                         label=_("Channels they use"))
    areas = forms.CharField(required=False, label=_("Areas"), help_text=_("Separated by commas"))
    needs = forms.MultipleChoiceField(choices=_labels(Need.choices),
                                      required=False, widget=forms.CheckboxSelectMultiple, label=_("Needs"))

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class ChannelForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label=_("Team"))
    kind = forms.ChoiceField(choices=_labels(ChannelKind.choices), label=_("Kind"))
    name = forms.CharField(max_length=200, label=_("Name"))
    config = forms.JSONField(required=False, initial=dict, widget=forms.Textarea(attrs={"rows": 4}),
                             label=_("Configuration"),
                             help_text=_('JSON, e.g. {"instance_url": "https://…", "access_token": "…"}. '
                                         "Tokens are encrypted and never shown again. Channels that take replies "
                                         "(Telegram, SMS, partner webhook) show the webhook URL to give the platform "
                                         "on this page once added. SMS behind a proxy that ends TLS: set "
                                         '"inbound_url" to the exact URL configured in Twilio, or Twilio\'s '
                                         "signatures will not match. Telegram: set \"secret_token\" and give the "
                                         "same value to setWebhook. Partner webhook: \"status_lookup\": true when the "
                                         "partner answers the status look-up (docs/api.md), so that a delivery left "
                                         "unconfirmed is settled by asking it. See docs/platforms.md."))

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class PauseForm(forms.Form):
    reason = forms.CharField(max_length=500, label=_("Reason"),
                             help_text=_("To pause: why nothing may leave now. To resume: why it is safe to send "
                                         "again (what was checked). Kept in the audit trail either way."))
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label=_("Which team"))

    def __init__(self, *args: Any, teams: list, everything: bool, restored: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(t.pk, t.name) for t in teams]
        if everything:
            choices = [("", _("Every force (platform-wide)")), *choices]
        self.fields["team"].choices = choices
        if restored:  # a restore paused a force: lifting that pause needs its report read first
            self.fields["restore_report_seen"] = forms.BooleanField(
                required=False, label=_("I have read the restore report above"),
                help_text=_("Needed to resume a force that was restored from a backup."))
