"""``pii.<kind>``: personal data in outbound text."""

from __future__ import annotations

from campaigns.checker.findings import CheckerConfig, Finding
from core.pii import find_pii

__all__ = ["check_personal_data"]

_DESCRIPTIONS = {
    "phone": "a phone number",
    "email": "an email address",
    "vehicle_registration": "a vehicle registration",
    "date_of_birth": "a date of birth",
    "address": "an address or postcode",
}


def check_personal_data(*, body: str, config: CheckerConfig) -> list[Finding]:
    findings = []
    for match in find_pii(body):
        code = f"pii.{match.kind}"
        if not config.is_enabled(code):
            continue
        what = _DESCRIPTIONS.get(match.kind, "personal data")
        findings.append(
            Finding(
                code=code,
                severity="warning",
                message=f"This looks like {what} (“{match.text}”). Publish personal data only if you must.",
                span=(match.start, match.end),
            )
        )
    return findings
