"""The set-up form of a watch (the service checks the limits again and says why it refuses)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from engage.awareness.models import MAX_RETENTION_HOURS


def _lines(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


class WatchForm(forms.Form):
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000,
                              help_text=_("Published on the transparency page, word for word."))
    window_start = forms.DateTimeField(label=_("Watch from"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    window_end = forms.DateTimeField(label=_("Watch until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                     help_text=_("At most 14 days after the start."))
    retention_hours = forms.IntegerField(label=_("Keep post text for (hours)"), min_value=1,
                                         max_value=MAX_RETENTION_HOURS, initial=MAX_RETENTION_HOURS)
    hashtags = forms.CharField(label=_("Hashtags"), required=False)
    instances = forms.CharField(label=_("Mastodon instances"), required=False,
                                help_text=_("Addresses such as https://mastodon.social, one per line."),
                                widget=forms.Textarea(attrs={"rows": 2}))
    feed_urls = forms.CharField(label=_("Atom or RSS feeds"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_hashtags(self) -> list[str]:
        return _lines(self.cleaned_data["hashtags"])

    def clean_instances(self) -> list[str]:
        return _lines(self.cleaned_data["instances"])

    def clean_feed_urls(self) -> list[str]:
        return _lines(self.cleaned_data["feed_urls"])
