"""Forms for the public face's staff pages: a message's CAP alert fields, and rumours."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from campaigns.models import Message, RumourStatus
from campaigns.services.cap import (
    CATEGORIES,
    CERTAINTIES,
    DEFAULTS,
    RESPONSE_TYPES,
    SEVERITIES,
    URGENCIES,
    event_area,
)

_HELP_LABELS = {
    "Safety": _("Safety (general public safety)"), "Security": _("Security (public order, police)"),
    "Transport": _("Transport (roads, rail, closures)"), "Rescue": _("Rescue"), "Fire": _("Fire"), "Health": _("Health"),
    "Env": _("Environment"), "Infra": _("Infrastructure (utilities, bridges)"), "Met": _("Weather"), "Geo": _("Geophysical"),
    "CBRNE": _("Chemical, biological, radiological, nuclear or explosive"), "Other": _("Other"),
}


class CapForm(forms.Form):
    """Every CAP value is a choice from the standard's list, with no Unknown."""

    category = forms.MultipleChoiceField(choices=[(c, _HELP_LABELS[c]) for c in CATEGORIES],
                                         widget=forms.CheckboxSelectMultiple, label=_("Category"))
    event = forms.CharField(max_length=120, label=_("Event type"), required=False,
                            help_text=_("What the alert is about, e.g. 'Crowd safety' or 'Road closure'."))
    urgency = forms.ChoiceField(choices=[(c, c) for c in URGENCIES], label=_("Urgency (CAP)"),
                                help_text=_("Immediate: act now. Expected: within the hour."))
    severity = forms.ChoiceField(choices=[(c, c) for c in SEVERITIES], label=_("Severity"))
    certainty = forms.ChoiceField(choices=[(c, c) for c in CERTAINTIES], label=_("Certainty"))
    responseType = forms.MultipleChoiceField(  # noqa: N815 - CAP's own element name
        choices=[(c, c) for c in RESPONSE_TYPES], widget=forms.CheckboxSelectMultiple, required=False,
        label=_("What people should do"))
    expires = forms.DateTimeField(required=False, label=_("Expires"),
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                  help_text=_("In the team's time zone. Leave empty for 24 hours in the alerts feed."))
    areaDesc = forms.CharField(max_length=200, label=_("Area to notify"), required=False)  # noqa: N815
    circle = forms.CharField(max_length=80, required=False, label=_("Circle"),
                             help_text=_("latitude,longitude radius in km, e.g. 52.951,-1.15 1.5"))
    polygon = forms.CharField(max_length=4000, required=False, label=_("Polygon"),
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Instead of a circle: latitude,longitude pairs separated by spaces."))
    instruction = forms.CharField(max_length=1000, required=False, label=_("Instruction"),
                                  widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text=_("What to do, in the message's own language."))
    senderName = forms.CharField(max_length=200, required=False, label=_("Sender name"),  # noqa: N815
                                 help_text=_("Empty: the team's name."))
    web = forms.URLField(required=False, assume_scheme="https", label=_("More information at"),
                         help_text=_("Empty: this update's public page."))

    @classmethod
    def for_message(cls, message: Message, data: Any = None) -> CapForm:
        cap = dict(message.cap or {})
        if not cap:
            defaults = DEFAULTS.get(message.urgency, {})
            event = message.campaign.event if message.campaign_id else None
            cap = {"category": ["Safety"], "event": event.name if event else "", **defaults, **event_area(event)}
        if isinstance(cap.get("expires"), str):
            expires = parse_datetime(cap["expires"])
            cap["expires"] = timezone.localtime(expires) if expires else None
        return cls(data, initial=cap, prefix="cap")


class RumourForm(forms.Form):
    claim = forms.CharField(max_length=500, label=_("The claim, as people repeat it"),
                            widget=forms.Textarea(attrs={"rows": 2}),
                            help_text=_("For example: 'The bridge on Station Road has collapsed.'"))


class RumourStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(v, _(label)) for v, label in RumourStatus.choices],  # noqa: INT001
                               label=_("What we know"))
    explanation = forms.CharField(max_length=2000, label=_("Explanation (public)"),
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("Plain words: what is true, and what people should do."))
