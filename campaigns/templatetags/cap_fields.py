"""``{% cap_form message as form %}``: the CAP fields form for templates/campaigns/_cap_fields.html."""

from __future__ import annotations

from django import template

from campaigns.forms_cap import CapForm
from campaigns.models import Message

register = template.Library()


@register.simple_tag
def cap_form(message: Message) -> CapForm:
    return CapForm.for_message(message)
