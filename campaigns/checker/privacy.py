"""``pii.<kind>``: personal data in outbound text."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy

from campaigns.checker.findings import CheckerConfig, Finding, quoted
from core.pii import find_pii

__all__ = ["check_personal_data"]

_DESCRIPTIONS = {
    "phone": gettext_lazy("This looks like a phone number (“%(text)s”). Publish personal data only if you must."),
    "email": gettext_lazy("This looks like an email address (“%(text)s”). Publish personal data only if you must."),
    "vehicle_registration": gettext_lazy("This looks like a vehicle registration (“%(text)s”). Publish personal "
                                         "data only if you must."),
    "date_of_birth": gettext_lazy("This looks like a date of birth (“%(text)s”). Publish personal data only if "
                                  "you must."),
    "address": gettext_lazy("This looks like an address or postcode (“%(text)s”). Publish personal data only if "
                            "you must."),
}


def check_personal_data(*, body: str, config: CheckerConfig) -> list[Finding]:
    findings = []
    for match in find_pii(body):
        code = f"pii.{match.kind}"
        if not config.is_enabled(code):
            continue
        sentence = _DESCRIPTIONS.get(match.kind) or gettext(
            "This looks like personal data (“%(text)s”). Publish personal data only if you must.")
        findings.append(
            Finding(
                code=code,
                severity="warning",
                message=str(sentence) % {"text": quoted(match.text)},
                span=(match.start, match.end),
            )
        )
    return findings
