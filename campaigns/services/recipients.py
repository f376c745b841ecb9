"""The people on a team's list channels (SMS, email): add, import, opt out, export.

Team administrators manage them. An address is personal data: it is encrypted at rest, the audit
trail records recipient ids and counts but never an address, and every export of addresses is
audited (``channel.recipients_exported``). Lists show addresses masked (:func:`mask_address`).
Who gets which text of a message is :mod:`campaigns.services.targeting`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.audit import audit_record
from accounts.models import User
from accounts.policies import policy_for
from campaigns.models import Channel, ListRecipient, Segment
from campaigns.secretbox import digest
from campaigns.services.targeting import LIST_KINDS
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from core.sanitize import sanitize_text

MAX_IMPORT = 10_000
DEFAULT_COUNTRY_CODE = "44"  # national numbers (07700 900123) are read as UK numbers, as for replies
_PHONE_CHARS = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"\+?\d{7,15}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")


def normalise_phone(value: str) -> str:
    """E.164 (``+447700900123``) from however a number was written, or "" if it is not one.
    The same rule as ``engage.inbound.identity.author_key``, so subject access finds list entries."""
    compact = _PHONE_CHARS.sub("", (value or "").strip())
    if not _PHONE.fullmatch(compact):
        return ""
    if compact.startswith("+"):
        number = compact
    elif compact.startswith("00"):
        number = "+" + compact[2:]
    elif compact.startswith("0"):
        number = f"+{DEFAULT_COUNTRY_CODE}{compact[1:]}"
    else:
        number = "+" + compact
    return number if _E164.fullmatch(number) else ""


def normalise_address(kind: str, value: str) -> str:
    """The canonical address for a channel kind, or "" when ``value`` is not a valid one."""
    if kind == "sms":
        return normalise_phone(value)
    address = (value or "").strip().lower()
    if len(address) > 254:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


def address_digest(address: str) -> str:
    """The keyed digest a recipient row is found by (``address`` already normalised)."""
    return digest(address)


def mask_address(address: str) -> str:
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"{address[:3]}•••{address[-3:]}" if len(address) > 6 else "•••"


def _language(value: str) -> str:
    language = (value or "").strip().lower().replace("_", "-")
    if not _LANGUAGE.fullmatch(language) or len(language) > 16:
        raise InvalidInput(gettext("Give the language as an ISO 639-1 code, such as en or fa."),
                           fields={"language": ["Not a language code."]})
    return language


def _require_list_channel(actor: User, channel: Channel) -> None:
    if not policy_for(Channel).may(actor, "view", channel):
        raise NotFound(gettext("No such channel."))
    if not policy_for(Channel).may(actor, "administer", channel):
        raise NotAllowed(gettext("Only an administrator of this team manages its recipients."))
    if channel.kind not in LIST_KINDS:
        raise WrongState(gettext("Only SMS and email channels have recipients."), code="not_a_list")


def _segments(channel: Channel, ids: Iterable[Any] | None) -> list[Segment]:
    wanted: set[int] = set()
    for value in ids or ():
        try:
            number = int(value.pk if isinstance(value, Segment) else value)
        except (TypeError, ValueError):
            number = -1
        if not 0 < number < 2**63:
            raise InvalidInput(gettext("Unknown segment."), fields={"segments": ["Unknown segment."]})
        wanted.add(number)
    found = list(Segment.objects.filter(pk__in=wanted, team_id=channel.team_id))
    if len(found) != len(wanted):
        raise InvalidInput(gettext("Use segments of the channel's team."),
                           fields={"segments": ["Unknown segment."]})
    return found


def _consent(value: str) -> str:
    source = sanitize_text(value or "", max_length=100)
    if not source:
        raise InvalidInput(gettext("Say how they agreed to receive messages (a form, a sign-up sheet...)."),
                           fields={"consent_source": ["This field is required."]})
    return source


@transaction.atomic
def recipient_add(*, actor: User, channel: Channel, address: str, language: str = "en",
                  segments: Iterable[Any] | None = None, consent_source: str) -> ListRecipient:
    """Put one person on a list. Someone who had opted out is put back only by a new consent."""
    _require_list_channel(actor, channel)
    normalised = normalise_address(channel.kind, address)
    if not normalised:
        what = "phone number (such as +447700900123)" if channel.kind == "sms" else "email address"
        raise InvalidInput(f"Give a valid {what}.", fields={"address": ["Not valid."]})
    language = _language(language)
    chosen = _segments(channel, segments)
    source = _consent(consent_source)
    key = address_digest(normalised)
    recipient = ListRecipient.objects.select_for_update().filter(channel=channel, address_digest=key).first()
    if recipient is not None and recipient.opted_out_at is None:
        raise InvalidInput(gettext("This address is already on the list."), code="duplicate",
                           fields={"address": ["Already on the list."]})
    now = timezone.now()
    if recipient is None:
        recipient = ListRecipient(channel=channel, language=language, consent_source=source, consented_at=now)
        recipient.set_address(normalised, key)
    else:
        recipient.language, recipient.consent_source, recipient.consented_at = language, source, now
        recipient.opted_out_at = None
    recipient.save()
    recipient.segments.set(chosen)
    audit_record(actor=actor, verb="channel.recipient_added", target=channel, team=channel.team_id,
                 summary={"recipient": recipient.pk, "language": language, "segments": [s.pk for s in chosen],
                          "consent_source": source})
    return recipient


@transaction.atomic
def recipients_import(*, actor: User, channel: Channel, text: str, language: str = "en",
                      segments: Iterable[Any] | None = None, consent_source: str) -> dict[str, int]:
    """Add many people at once: one per line, ``address`` or ``address,language``. People already
    on the list are left as they are (counted), people who opted out are not put back (counted),
    and lines that are not addresses are counted, never stored."""
    _require_list_channel(actor, channel)
    default_language = _language(language)
    chosen = _segments(channel, segments)
    source = _consent(consent_source)
    lines = [line.strip() for line in (text or "").splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) > MAX_IMPORT:
        raise InvalidInput(gettext("Import at most %(max)s addresses at a time.") % {"max": MAX_IMPORT},
                           fields={"text": [f"More than {MAX_IMPORT} lines."]})
    wanted: dict[str, tuple[str, str]] = {}
    invalid = 0
    for line in lines:
        raw, _, lang = (part.strip() for part in line.partition(","))
        normalised = normalise_address(channel.kind, raw)
        try:
            lang = _language(lang) if lang else default_language
        except InvalidInput:
            normalised = ""
        if not normalised:
            invalid += 1
            continue
        wanted.setdefault(address_digest(normalised), (normalised, lang))
    existing = dict(ListRecipient.objects.filter(channel=channel, address_digest__in=list(wanted))
                    .values_list("address_digest", "opted_out_at"))
    now = timezone.now()
    new = []
    for key, (address, lang) in wanted.items():
        if key in existing:
            continue
        recipient = ListRecipient(channel=channel, language=lang, consent_source=source, consented_at=now,
                                  created_at=now)
        recipient.set_address(address, key)
        new.append(recipient)
    ListRecipient.objects.bulk_create(new, batch_size=1000)
    if chosen:
        created = list(ListRecipient.objects.filter(channel=channel, address_digest__in=[r.address_digest for r in new])
                       .values_list("pk", flat=True))
        through = ListRecipient.segments.through
        through.objects.bulk_create([through(listrecipient_id=pk, segment_id=s.pk) for pk in created for s in chosen],
                                    batch_size=1000)
    result = {"added": len(new), "already_listed": sum(1 for v in existing.values() if v is None),
              "opted_out": sum(1 for v in existing.values() if v is not None), "invalid": invalid}
    audit_record(actor=actor, verb="channel.recipients_imported", target=channel, team=channel.team_id,
                 summary={**result, "segments": [s.pk for s in chosen], "consent_source": source})
    return result


@transaction.atomic
def recipient_opt_out(*, actor: User, recipient: ListRecipient, reason: str = "") -> ListRecipient:
    """Take someone off the list: they get nothing more. The row stays (so an import does not put
    them back); erasure (``engage.inbound.retention``) deletes it."""
    recipient = ListRecipient.objects.select_for_update().select_related("channel").get(pk=recipient.pk)
    _require_list_channel(actor, recipient.channel)
    if recipient.opted_out_at is None:
        recipient.opted_out_at = timezone.now()
        recipient.save(update_fields=["opted_out_at", "updated_at"])
        audit_record(actor=actor, verb="channel.recipient_opted_out", target=recipient.channel,
                     team=recipient.channel.team_id,
                     summary={"recipient": recipient.pk, "reason": sanitize_text(reason, max_length=300)})
    return recipient


@transaction.atomic
def recipients_export(*, actor: User, channel: Channel) -> list[dict[str, Any]]:
    """Every recipient of a list with the address in the clear: audited, for administrators."""
    _require_list_channel(actor, channel)
    rows = list(ListRecipient.objects.filter(channel=channel).prefetch_related("segments").order_by("pk"))
    audit_record(actor=actor, verb="channel.recipients_exported", target=channel, team=channel.team_id,
                 summary={"count": len(rows), "ids": [r.pk for r in rows][:1000]})
    return [{"id": r.pk, "address": r.address, "language": r.language,
             "segments": [s.pk for s in r.segments.all()], "consent_source": r.consent_source,
             "consented_at": r.consented_at.isoformat(),
             "opted_out_at": r.opted_out_at.isoformat() if r.opted_out_at else None} for r in rows]
