"""What changed between two versions of a message, field by field, in words a reviewer reads.

Two stored snapshots (``MessageVersion.snapshot``, see ``campaigns.services.content``) are
compared: the title and the text (a word diff, escaped), the language, urgency and whether it asks
the public to act, the links and hashtags, the channels and audiences (by name, not id), the
images (by the hash of their bytes: added, removed, alt text changed), the CAP fields, and each
variant (matched by language, format and audience): added, removed, or its text, channels and
images changed. Nothing here writes; the names come from two queries at most.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext_lazy

from accounts.languages import english_name
from campaigns.models import Channel, Segment, Urgency


@dataclass
class FieldChange:
    """One field's change: a text diff, a value that became another, or items added and removed."""

    label: str
    kind: str  # "field" (the kind of thing that changed, for the page and its tests)
    text: SafeString | None = None
    old: str = ""
    new: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # (what, old, new)


def word_diff(old: str, new: str) -> SafeString:
    """The new text with removed words in ``<del>`` and added ones in ``<ins>``, every piece escaped."""
    out = []
    matcher = difflib.SequenceMatcher(a=(old or "").split(" "), b=(new or "").split(" "), autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(matcher.a[a1:a2])))
        if op in ("delete", "replace"):
            out.append(f"<del>{escape(' '.join(matcher.a[a1:a2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{escape(' '.join(matcher.b[b1:b2]))}</ins>")
    return mark_safe(" ".join(out))  # noqa: S308 - every piece is escaped above


FORMAT_NAMES = {"standard": "", "easy_read": pgettext_lazy("variant format", "Easy read"),
                "sms_short": pgettext_lazy("variant format", "Short SMS")}


def format_name(code: str) -> str:
    """A variant format by name ("Easy read", "Short SMS"); "" for the standard one."""
    return str(FORMAT_NAMES.get(code or "standard", code))


def variant_name(language: str, format: str, segment: str = "") -> str:
    """"Farsi · Easy read · Visitors": a variant by its language, format and audience names."""
    parts = [english_name(language or ""), format_name(format)]
    if segment:
        parts.append(segment)
    return " · ".join(p for p in parts if p)


class _Names:
    """Channel and audience names for the ids two snapshots hold, read once."""

    def __init__(self, snapshots: list[dict[str, Any]]) -> None:
        channel_ids: set[int] = set()
        segment_ids: set[int] = set()
        for snap in snapshots:
            channel_ids.update(snap.get("channels") or [])
            segment_ids.update(snap.get("segments") or [])
            for variant in snap.get("variants") or []:
                channel_ids.update(variant.get("channels") or [])
                if variant.get("segment"):
                    segment_ids.add(variant["segment"])
        ids_ok = lambda ids: {i for i in ids if isinstance(i, int) and 0 < i < 2**63}  # noqa: E731
        self.channels = dict(Channel.objects.filter(pk__in=ids_ok(channel_ids)).values_list("pk", "name"))
        self.segments = dict(Segment.objects.filter(pk__in=ids_ok(segment_ids)).values_list("pk", "name"))

    def channel(self, pk: int) -> str:
        return self.channels.get(pk) or gettext("a removed channel (%(id)s)") % {"id": pk}

    def segment(self, pk: int | None) -> str:
        if not pk:
            return ""
        return self.segments.get(pk) or gettext("a removed audience (%(id)s)") % {"id": pk}


def _added_removed(old: list[Any], new: list[Any], name: Any = str) -> tuple[list[str], list[str]]:
    return ([name(x) for x in new if x not in old], [name(x) for x in old if x not in new])


def _image(item: dict[str, Any]) -> str:
    alt = item.get("alt_text") or gettext("no alt text")
    return gettext("image “%(alt)s”") % {"alt": alt}


def _media_change(label: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> FieldChange | None:
    before = {m.get("sha256"): m for m in old or []}
    after = {m.get("sha256"): m for m in new or []}
    change = FieldChange(label=label, kind="media")
    change.added = [_image(m) for key, m in after.items() if key not in before]
    change.removed = [_image(m) for key, m in before.items() if key not in after]
    change.changed = [(gettext("Alt text"), before[key].get("alt_text") or "", m.get("alt_text") or "")
                      for key, m in after.items() if key in before and before[key].get("alt_text") != m.get("alt_text")]
    return change if change.added or change.removed or change.changed else None


def _variant_key(v: dict[str, Any]) -> tuple[str, str, int]:
    return (v.get("language") or "", v.get("format") or "standard", v.get("segment") or 0)


def _variant_changes(old: list[dict[str, Any]], new: list[dict[str, Any]], names: _Names) -> list[FieldChange]:
    before = {_variant_key(v): v for v in old or []}
    after = {_variant_key(v): v for v in new or []}
    changes: list[FieldChange] = []
    for key, v in after.items():
        label = gettext("Variant %(name)s") % {
            "name": variant_name(v.get("language", ""), v.get("format", ""), names.segment(v.get("segment")))}
        if key not in before:
            changes.append(FieldChange(label=label, kind="variant_added", text=word_diff("", v.get("body", "")),
                                       added=[names.channel(c) for c in v.get("channels") or []]))
            continue
        was = before[key]
        if was.get("body") != v.get("body"):
            changes.append(FieldChange(label=gettext("%(variant)s: text") % {"variant": label}, kind="variant_text",
                                       text=word_diff(was.get("body", ""), v.get("body", ""))))
        added, removed = _added_removed(was.get("channels") or [], v.get("channels") or [], names.channel)
        if added or removed:
            changes.append(FieldChange(label=gettext("%(variant)s: channels") % {"variant": label},
                                       kind="variant_channels", added=added, removed=removed))
        media = _media_change(gettext("%(variant)s: images") % {"variant": label}, was.get("media"), v.get("media"))
        if media:
            changes.append(media)
    for key, v in before.items():
        if key not in after:
            label = gettext("Variant %(name)s") % {
                "name": variant_name(v.get("language", ""), v.get("format", ""), names.segment(v.get("segment")))}
            changes.append(FieldChange(label=label, kind="variant_removed", text=word_diff(v.get("body", ""), "")))
    return changes


def _yes_no(value: Any) -> str:
    return gettext("yes") if value else gettext("no")


def snapshot_changes(old: dict[str, Any], new: dict[str, Any], *, names: _Names | None = None) -> list[FieldChange]:
    """Every difference between two snapshots, in the order a reviewer reads the message."""
    names = names or _Names([old, new])
    changes: list[FieldChange] = []
    for key, label in (("title", gettext("Title")), ("body", gettext("Text"))):
        if (old.get(key) or "") != (new.get(key) or ""):
            changes.append(FieldChange(label=label, kind=key, text=word_diff(old.get(key) or "", new.get(key) or "")))
    for key, label, show in (("language", gettext("Language"), english_name),
                             ("urgency", gettext("Urgency"), lambda v: gettext(dict(Urgency.choices).get(v, str(v)))),
                             ("instructive", gettext("Asks the public to act"), _yes_no)):
        if key in old and key in new and old[key] != new[key]:
            changes.append(FieldChange(label=label, kind=key, old=show(old[key]), new=show(new[key])))
    for key, label, name in (("channels", gettext("Channels"), names.channel),
                             ("segments", gettext("Audiences"), names.segment),
                             ("links", gettext("Links"), str),
                             ("hashtags", gettext("Hashtags"), lambda t: f"#{t}")):
        added, removed = _added_removed(old.get(key) or [], new.get(key) or [], name)
        if added or removed:
            changes.append(FieldChange(label=label, kind=key, added=added, removed=removed))
    media = _media_change(gettext("Images"), old.get("media"), new.get("media"))
    if media:
        changes.append(media)
    changes.extend(_variant_changes(old.get("variants"), new.get("variants"), names))
    old_cap, new_cap = old.get("cap") or {}, new.get("cap") or {}
    if old_cap != new_cap:
        changes.append(FieldChange(label=gettext("CAP alert fields"), kind="cap", changed=[
            (str(k), str(old_cap.get(k, "")), str(new_cap.get(k, "")))
            for k in sorted(set(old_cap) | set(new_cap), key=str) if old_cap.get(k) != new_cap.get(k)]))
    return changes


def version_diffs(versions: list[Any]) -> list[dict[str, Any]]:
    """Each step of a message's history (``MessageVersion`` rows, oldest first), newest first, with
    what changed; the names of every version's channels and audiences are read in two queries."""
    names = _Names([v.snapshot for v in versions if isinstance(v.snapshot, dict)])
    steps = []
    for older, newer in zip(versions, versions[1:], strict=False):
        steps.append({"from": older.version, "to": newer.version, "by": newer.created_by, "at": newer.created_at,
                      "changes": snapshot_changes(older.snapshot or {}, newer.snapshot or {}, names=names)})
    return list(reversed(steps))


def changes_since_approval(message: Any, versions: list[Any]) -> dict[str, Any] | None:
    """For a message back in review after an approval: what changed since the version last approved
    (its most recent approval, voided by the edit), or None when it was never approved before."""
    from campaigns.models import Approval, MessageStatus

    if message.status != MessageStatus.IN_REVIEW:
        return None
    approval = (Approval.objects.filter(message=message, version__lt=message.version)
                .select_related("approver").order_by("-version", "-created_at", "-id").first())
    if approval is None:
        return None
    by_number = {v.version: v for v in versions}
    approved, current = by_number.get(approval.version), by_number.get(message.version)
    if approved is None or current is None:
        return None
    return {"approval": approval, "from": approved.version, "to": current.version,
            "changes": snapshot_changes(approved.snapshot or {}, current.snapshot or {},
                                        names=_Names([approved.snapshot or {}, current.snapshot or {}]))}
