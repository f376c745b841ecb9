"""Team policies for replies: defaults in code, overrides in the database, and their edits.

* **SLA** (minutes to a first answer, from when the person sent it): urgent replies 5, questions
  60, complaints 1,440 (one day: "one working day" is counted as 24 hours of calendar time, not
  office hours, because replies during an event arrive round the clock), spam no clock.
* **Retention** (days before redaction): praise and spam 30, abuse and rumours 90, questions and
  information 180, complaints, crime reports and emergencies 365. A reply never classified is
  kept for the longest period, 365 days.
* **Category rules**: engage.inbound.classify's defaults plus the admins' rules for the team (and the
  rules for every team), per language.
* **Restricted queue**: with the team setting ``restricted_queue`` on, replies in the categories
  of ``restricted_categories`` (default: information and crime_report) go to the restricted queue.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from accounts import permissions, teams
from accounts.audit import audit_record
from accounts.models import Team, User
from accounts.policies import policy_for
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from core.sanitize import sanitize_text
from engage.inbound.classify.category import CATEGORIES, DEFAULT_RULES, Rule
from engage.models import (
    AnswerTemplate,
    AnswerTemplateVersion,
    CategoryRule,
    RetentionPolicy,
    SlaPolicy,
    TemplateApprovalKind,
    TemplatePurpose,
)

URGENT = "urgent"
DEFAULT_SLA_MINUTES: dict[str, int | None] = {
    URGENT: 5,
    "emergency": 5,
    "crime_report": 60,
    "question": 60,
    "rumour": 120,
    "information": 240,
    "complaint": 1440,
    "abuse": 1440,
    "praise": 4320,
    "spam": None,
}
DEFAULT_RETENTION_DAYS: dict[str, int] = {
    "praise": 30,
    "spam": 30,
    "abuse": 90,
    "rumour": 90,
    "question": 180,
    "information": 180,
    "complaint": 365,
    "crime_report": 365,
    "emergency": 365,
}
UNCLASSIFIED_RETENTION_DAYS = 365
DEFAULT_RESTRICTED_CATEGORIES = ("information", "crime_report")
MAX_RETENTION_DAYS = 3650


def lineage(team_id: int) -> list[int]:
    """The team and the teams above it, nearest first."""
    return teams.lineage(team_id, teams.parent_map())


# --- reading ----------------------------------------------------------------------------------

def sla_minutes(*, team_id: int, category: str, urgent: bool) -> int | None:
    key = URGENT if urgent else category
    row = SlaPolicy.objects.filter(team_id=team_id, category=key).first()
    if row is not None:
        return row.minutes
    return DEFAULT_SLA_MINUTES.get(key, DEFAULT_SLA_MINUTES.get(category))


def retention_days(*, team_id: int) -> dict[str, int]:
    """Days per category for a team ("" is the unclassified reply)."""
    days = {**DEFAULT_RETENTION_DAYS, "": UNCLASSIFIED_RETENTION_DAYS}
    days.update(dict(RetentionPolicy.objects.filter(team_id=team_id).values_list("category", "days")))
    return days


def category_rules(*, team_id: int) -> Mapping[str, Sequence[Rule]] | None:
    """engage.inbound.classify's default rules extended with the admins' rules; None when there are none."""
    rows = list(policy_for(CategoryRule).restrict(CategoryRule.objects.filter(is_active=True), lineage(team_id),
                                                  shared=True).values_list("language", "category", "pattern", "weight"))
    if not rows:
        return None
    merged: dict[str, list[Rule]] = {language: list(rules) for language, rules in DEFAULT_RULES.items()}
    for language, category, pattern, weight in rows:
        try:
            rule = Rule(category, pattern, weight)
        except (ValueError, re.error):
            continue  # refused on the way in; an old row that no longer compiles is skipped, not fatal
        merged.setdefault(language, []).append(rule)
    return merged


def restricted_categories(team: Team) -> frozenset[str]:
    if not team.setting("restricted_queue", False):
        return frozenset()
    return frozenset(team.setting("restricted_categories", DEFAULT_RESTRICTED_CATEGORIES))


def template_hash(*, title: str, purpose: str, language: str, body: str) -> str:
    """The hash an approval binds: every word of the template and what it is for."""
    payload = json.dumps({"title": title, "purpose": purpose, "language": language, "body": body},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def is_approved(template: AnswerTemplate) -> bool:
    """The row holds exactly the words a second person approved (checked again before any use)."""
    return bool(template.approved_version_id and template.approved_hash and template.approved_hash == template_hash(
        title=template.title, purpose=template.purpose, language=template.language, body=template.body))


def _usable() -> QuerySet[AnswerTemplate]:
    return AnswerTemplate.objects.filter(is_active=True, approved_version__isnull=False).exclude(approved_hash="")


def answer_template_for(*, team_id: int, purpose: str, language: str) -> AnswerTemplate | None:
    """The team's (or a parent's, or the shipped) active, approved template for a purpose, in the
    language if there is one, else in English."""
    chain = lineage(team_id)
    candidates = [t for t in policy_for(AnswerTemplate).restrict(_usable().filter(purpose=purpose), chain, shared=True)
                  if is_approved(t)]

    def rank(template: AnswerTemplate) -> tuple[int, int]:
        team_rank = chain.index(template.team_id) if template.team_id in chain else len(chain)
        return (0 if template.language == language else 1, team_rank)

    wanted = [t for t in candidates if t.language in (language, "en")]
    return min(wanted, key=rank) if wanted else None


def templates_for_team(team_id: int) -> QuerySet[AnswerTemplate]:
    """The templates a liaison may send: active and approved (their approved words)."""
    return policy_for(AnswerTemplate).restrict(_usable(), lineage(team_id), shared=True).order_by(
        "purpose", "title", "language")


def templates_in_language_first(templates: Iterable[AnswerTemplate], language: str) -> list[AnswerTemplate]:
    """``templates`` with those in ``language`` first (their order otherwise kept)."""
    templates = list(templates)
    return [t for t in templates if t.language == language] + [t for t in templates if t.language != language]


def templates_to_manage(team_id: int) -> QuerySet[AnswerTemplate]:
    """Every template of the team and above (drafts and withdrawn ones too), for the settings page."""
    return (policy_for(AnswerTemplate).restrict(AnswerTemplate.objects.all(), lineage(team_id), shared=True)
            .select_related("approved_version", "approved_by").order_by("purpose", "title", "language"))


def pending_template_versions(team_ids: Iterable[int]) -> QuerySet[AnswerTemplateVersion]:
    """Versions waiting for a second supervisor: to approve, or to review after the fact."""
    return (policy_for(AnswerTemplateVersion).restrict(AnswerTemplateVersion.objects.all(), list(team_ids))
            .filter(Q(approved_at__isnull=True, superseded_at__isnull=True) | Q(review_due=True,
                                                                                  reviewed_at__isnull=True))
            .select_related("template", "author", "approved_by", "template__approved_version")
            .order_by("created_at"))


# --- editing (supervisors write and approve templates; admins set rules, SLAs and retention) ----

@transaction.atomic
def answer_template_save(
    *, actor: User, team: Team, title: str, body: str, language: str = "en", purpose: str = TemplatePurpose.GENERAL,
    template: AnswerTemplate | None = None, is_active: bool = True,
) -> AnswerTemplate:
    """Write a new version of a pre-approved answer (a new template, or a change to one).

    The version is not used until a supervisor who did not write it approves it
    (:func:`answer_template_approve`); until then a changed template keeps sending its last
    approved words, and a new one is not offered at all. Turning ``is_active`` off withdraws the
    template at once; turning it on again only brings back words that were approved.
    """
    if not permissions.can_write_answer_template(actor, team):
        raise NotAllowed(gettext("Only a supervisor of this team can write answer templates."))
    if template is not None:
        template = AnswerTemplate.objects.select_for_update().filter(pk=template.pk, team=team).first()
        if template is None:
            raise NotFound(gettext("No such template."))
    title = sanitize_text(title, max_length=200)
    body = sanitize_text(body, max_length=2000)
    if not title or not body:
        raise InvalidInput(gettext("A template needs a title and a text."),
                           fields={k: ["This field may not be blank."] for k, v in (("title", title), ("body", body))
                                   if not v})
    if purpose not in TemplatePurpose.values:
        raise InvalidInput(gettext("Unknown purpose."), fields={"purpose": ["Invalid choice."]})
    language = (language or "en").strip().lower()[:16]
    taken = AnswerTemplate.objects.filter(team=team, title=title, language=language)
    if template is not None:
        taken = taken.exclude(pk=template.pk)
    if taken.exists():
        raise InvalidInput(gettext("This team already has a template with that title in that language."),
                           code="duplicate", fields={"title": ["Taken."]})
    digest = template_hash(title=title, purpose=purpose, language=language, body=body)
    if template is None:
        template = AnswerTemplate.objects.create(team=team, title=title, body=body, language=language,
                                                 purpose=purpose, is_active=is_active)
    elif template.is_active != is_active:
        template = answer_template_set_active(actor=actor, template=template, is_active=is_active)
    latest = template.versions.order_by("-number").first()
    if latest is not None and latest.content_hash == digest and (latest.is_pending or latest.approved_at):
        return template  # nothing new to approve
    now = timezone.now()
    template.versions.filter(approved_at__isnull=True, superseded_at__isnull=True).update(superseded_at=now)
    version = AnswerTemplateVersion.objects.create(
        template=template, number=(latest.number + 1) if latest else 1, title=title, purpose=purpose,
        language=language, body=body, content_hash=digest, author=actor, created_at=now)
    audit_record(actor=actor, verb="answer_template.saved", target=template, team=team,
                 summary={"version": version.number, "title": title, "language": language, "purpose": purpose,
                          "content_hash": digest, "approved": False})
    return template


@transaction.atomic
def answer_template_set_active(*, actor: User, template: AnswerTemplate, is_active: bool) -> AnswerTemplate:
    """Withdraw a template at once, or bring it back (with its last approved words only)."""
    if template.team_id is None or not permissions.can_view_team(actor, template.team_id):
        raise NotFound(gettext("No such template."))
    if not permissions.can_write_answer_template(actor, template.team_id):
        raise NotAllowed(gettext("Only a supervisor of this team can withdraw answer templates."))
    updated = AnswerTemplate.objects.filter(pk=template.pk).exclude(is_active=is_active).update(is_active=is_active)
    template.is_active = is_active
    if updated:
        audit_record(actor=actor, verb="answer_template.activated" if is_active else "answer_template.withdrawn",
                     target=template, team=template.team_id, summary={"title": template.title})
    return template


def _apply_version(template: AnswerTemplate, version: AnswerTemplateVersion) -> None:
    template.title, template.purpose, template.language, template.body = (
        version.title, version.purpose, version.language, version.body)
    template.approved_version, template.approved_hash = version, version.content_hash
    template.approved_by, template.approved_at = version.approved_by, version.approved_at
    template.save(update_fields=["title", "purpose", "language", "body", "approved_version", "approved_hash",
                                 "approved_by", "approved_at"])


@transaction.atomic
def answer_template_approve(*, actor: User, version: AnswerTemplateVersion, expected_hash: str = "",
                            emergency: bool = False) -> AnswerTemplate:
    """A supervisor who did not write this version approves it: from now on it is what goes out.

    With ``emergency``, its author (a supervisor) may approve it at once; the approval then waits
    for a second supervisor's review (:func:`answer_template_review`).
    """
    version = AnswerTemplateVersion.objects.select_for_update().select_related("template").filter(
        pk=version.pk).first()
    if version is None or version.template.team_id is None or not permissions.can_view_team(
            actor, version.template.team_id):
        raise NotFound(gettext("No such template."))
    template = AnswerTemplate.objects.select_for_update().get(pk=version.template_id)
    team_id = template.team_id
    self_emergency = False
    if not permissions.can_approve_answer_template(actor, team_id, author_id=version.author_id):
        if emergency and permissions.can_emergency_publish(actor, team_id):
            self_emergency = True
        elif actor.pk == version.author_id and permissions.can_emergency_publish(actor, team_id):
            raise NotAllowed(gettext("You wrote this version, so another supervisor must approve it; in an emergency, "
                             "approve it yourself as an emergency for review afterwards."), code="own_template")
        else:
            raise NotAllowed(gettext("Only a supervisor of this team can approve answer templates."))
    if not version.is_pending:
        raise WrongState(gettext("This version is no longer waiting: it was approved or a newer one was written."),
                         code="not_pending")
    current = template_hash(title=version.title, purpose=version.purpose, language=version.language,
                            body=version.body)
    if current != version.content_hash or (expected_hash and expected_hash != current):
        raise WrongState(gettext("The template changed since you opened it. Review the current version."),
                         code="content_changed")
    if AnswerTemplate.objects.filter(team_id=team_id, title=version.title, language=version.language).exclude(
            pk=template.pk).exists():
        raise WrongState(gettext("Another template of this team has that title in that language."),
                         code="duplicate")
    now = timezone.now()
    version.approved_by, version.approved_at = actor, now
    version.approval_kind = TemplateApprovalKind.EMERGENCY_SELF if self_emergency else TemplateApprovalKind.STANDARD
    version.review_due = self_emergency
    version.save(update_fields=["approved_by", "approved_at", "approval_kind", "review_due"])
    _apply_version(template, version)
    audit_record(actor=actor, verb="answer_template.approved", target=template, team=team_id,
                 summary={"version": version.number, "content_hash": current, "author": version.author_id,
                          "kind": version.approval_kind})
    return template


@transaction.atomic
def answer_template_review(*, actor: User, version: AnswerTemplateVersion, comment: str = "") -> AnswerTemplateVersion:
    """A second supervisor reviews an emergency self-approval (or a pre-two-person-rule approval)."""
    version = AnswerTemplateVersion.objects.select_for_update().select_related("template").filter(
        pk=version.pk).first()
    if version is None or version.template.team_id is None or not permissions.can_view_team(
            actor, version.template.team_id):
        raise NotFound(gettext("No such template."))
    if not version.review_due:
        raise WrongState(gettext("This approval does not need a review."), code="not_emergency")
    if version.reviewed_at is not None:
        raise WrongState(gettext("This approval has already been reviewed."), code="already_reviewed")
    if not permissions.can_review_emergency_publication(actor, version.template.team_id,
                                                        publisher_id=version.approved_by_id) \
            or actor.pk == version.author_id:
        raise NotAllowed(gettext("A second supervisor, not the one who wrote or approved it, must review it."))
    version.reviewed_by, version.reviewed_at = actor, timezone.now()
    version.save(update_fields=["reviewed_by", "reviewed_at"])
    audit_record(actor=actor, verb="answer_template.reviewed", target=version.template, team=version.template.team_id,
                 summary={"version": version.number, "comment": sanitize_text(comment or "")[:500]})
    return version


@transaction.atomic
def sla_policy_set(*, actor: User, team: Team, category: str, minutes: int | None) -> SlaPolicy:
    if not permissions.can_manage_team(actor, team):
        raise NotAllowed(gettext("Only an administrator of this team can change its response times."))
    if category not in (*CATEGORIES, URGENT):
        raise InvalidInput(gettext("Unknown category."), fields={"category": ["Invalid choice."]})
    if minutes is not None and not 1 <= minutes <= 60 * 24 * 30:
        raise InvalidInput(gettext("Give between 1 minute and 30 days."),
                           fields={"minutes": ["Out of range."]})
    policy, _ = SlaPolicy.objects.update_or_create(team=team, category=category, defaults={"minutes": minutes})
    audit_record(actor=actor, verb="sla_policy.set", target=policy, team=team,
                 summary={"category": category, "minutes": minutes})
    return policy


@transaction.atomic
def retention_policy_set(*, actor: User, team: Team, category: str, days: int) -> RetentionPolicy:
    if not permissions.can_manage_retention(actor, team):
        raise NotAllowed(gettext("Only an administrator of this team can change how long replies are kept."))
    if category not in CATEGORIES:
        raise InvalidInput(gettext("Unknown category."), fields={"category": ["Invalid choice."]})
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(gettext("Give between 1 and %(max)s days.") % {"max": MAX_RETENTION_DAYS},
                           fields={"days": ["Out of range."]})
    policy, _ = RetentionPolicy.objects.update_or_create(team=team, category=category, defaults={"days": days})
    audit_record(actor=actor, verb="retention_policy.set", target=policy, team=team,
                 summary={"category": category, "days": days})
    return policy


@transaction.atomic
def category_rule_add(*, actor: User, team: Team, language: str, category: str, pattern: str,
                      weight: float = 1.0) -> CategoryRule:
    if not permissions.can_manage_team(actor, team):
        raise NotAllowed(gettext("Only an administrator of this team can change the category rules."))
    language = (language or "*").strip().lower()[:16]
    pattern = (pattern or "").strip()
    if not pattern or len(pattern) > 500:
        raise InvalidInput(gettext("Give a pattern of up to 500 characters."),
                           fields={"pattern": ["Required."]})
    try:
        Rule(category, pattern, float(weight))
    except re.error as exc:
        raise InvalidInput(gettext("The pattern is not a valid regular expression: %(error)s.") % {"error": exc},
                           fields={"pattern": [str(exc)]}) from exc
    except ValueError as exc:
        raise InvalidInput(str(exc), fields={"category": [str(exc)]}) from exc
    if not 0 < float(weight) <= 5:
        raise InvalidInput(gettext("Weight is between 0 and 5."), fields={"weight": ["Out of range."]})
    rule = CategoryRule.objects.create(team=team, language=language, category=category, pattern=pattern,
                                       weight=float(weight), created_by=actor)
    audit_record(actor=actor, verb="category_rule.added", target=rule, team=team,
                 summary={"language": language, "category": category, "pattern": pattern, "weight": weight})
    return rule


@transaction.atomic
def category_rule_disable(*, actor: User, rule: CategoryRule) -> CategoryRule:
    if rule.team_id is None or not permissions.can_manage_team(actor, rule.team_id):
        raise NotAllowed(gettext("Only an administrator of this team can change the category rules."))
    CategoryRule.objects.filter(pk=rule.pk).update(is_active=False)
    rule.is_active = False
    audit_record(actor=actor, verb="category_rule.disabled", target=rule, team=rule.team_id,
                 summary={"pattern": rule.pattern})
    return rule
