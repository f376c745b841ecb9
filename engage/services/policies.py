"""Team policies for replies: defaults in code, overrides in the database, and their edits.

* **SLA** (minutes to a first answer, from when the person sent it): urgent replies 5, questions
  60, complaints 1,440 (one day: "one working day" is counted as 24 hours of calendar time, not
  office hours, because replies during an event arrive round the clock), spam no clock.
* **Retention** (days before redaction): praise and spam 30, abuse and rumours 90, questions and
  information 180, complaints, crime reports and emergencies 365. A reply never classified is
  kept for the longest period, 365 days.
* **Category rules**: engage.classify's defaults plus the admins' rules for the team (and the
  rules for every team), per language.
* **Restricted queue**: with the team setting ``restricted_queue`` on, replies in the categories
  of ``restricted_categories`` (default: information and crime_report) go to the restricted queue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import permissions, teams
from accounts.audit import audit_record
from accounts.models import Role, Team, User
from engage.classify.category import CATEGORIES, DEFAULT_RULES, Rule
from engage.common.errors import InvalidInput, NotAllowed, NotFound
from engage.common.sanitize import sanitize_text
from engage.models import AnswerTemplate, CategoryRule, RetentionPolicy, SlaPolicy, TemplatePurpose

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
    """engage.classify's default rules extended with the admins' rules; None when there are none."""
    rows = list(CategoryRule.objects.filter(Q(team__isnull=True) | Q(team_id__in=lineage(team_id)), is_active=True)
                .values_list("language", "category", "pattern", "weight"))
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


def answer_template_for(*, team_id: int, purpose: str, language: str) -> AnswerTemplate | None:
    """The team's (or a parent's, or the shipped) active template for a purpose, in the language
    if there is one, else in English."""
    chain = lineage(team_id)
    candidates = list(AnswerTemplate.objects.filter(Q(team__isnull=True) | Q(team_id__in=chain), purpose=purpose,
                                                    is_active=True))

    def rank(template: AnswerTemplate) -> tuple[int, int]:
        team_rank = chain.index(template.team_id) if template.team_id in chain else len(chain)
        return (0 if template.language == language else 1, team_rank)

    wanted = [t for t in candidates if t.language in (language, "en")]
    return min(wanted, key=rank) if wanted else None


def templates_for_team(team_id: int):
    return AnswerTemplate.objects.filter(Q(team__isnull=True) | Q(team_id__in=lineage(team_id)),
                                         is_active=True).order_by("purpose", "title", "language")


# --- editing (supervisors make templates; admins set rules, SLAs and retention) ----------------

@transaction.atomic
def answer_template_save(
    *, actor: User, team: Team, title: str, body: str, language: str = "en", purpose: str = TemplatePurpose.GENERAL,
    template: AnswerTemplate | None = None, is_active: bool = True,
) -> AnswerTemplate:
    """Create or change a pre-approved answer. Whoever saves it approves it: supervisors only."""
    if not permissions.has_role(actor, team, {Role.SUPERVISOR}):
        raise NotAllowed("Only a supervisor of this team can approve answer templates.")
    if template is not None and template.team_id != team.pk:
        raise NotFound("No such template.")
    title = sanitize_text(title, max_length=200)
    body = sanitize_text(body, max_length=2000)
    if not title or not body:
        raise InvalidInput("A template needs a title and a text.",
                           fields={k: ["This field may not be blank."] for k, v in (("title", title), ("body", body))
                                   if not v})
    if purpose not in TemplatePurpose.values:
        raise InvalidInput("Unknown purpose.", fields={"purpose": ["Invalid choice."]})
    language = (language or "en").strip().lower()[:16]
    if template is None:
        if AnswerTemplate.objects.filter(team=team, title=title, language=language).exists():
            raise InvalidInput("This team already has a template with that title in that language.",
                               code="duplicate", fields={"title": ["Taken."]})
        template = AnswerTemplate(team=team)
    before = {"title": template.title, "body": template.body, "is_active": template.is_active}
    template.title, template.body, template.language, template.purpose = title, body, language, purpose
    template.is_active = is_active
    template.approved_by, template.approved_at = actor, timezone.now()
    template.save()
    audit_record(actor=actor, verb="answer_template.saved", target=template, team=team,
                 summary={"before": before, "title": title, "language": language, "purpose": purpose,
                          "is_active": is_active})
    return template


@transaction.atomic
def sla_policy_set(*, actor: User, team: Team, category: str, minutes: int | None) -> SlaPolicy:
    if not permissions.can_manage_team(actor, team):
        raise NotAllowed("Only an administrator of this team can change its response times.")
    if category not in (*CATEGORIES, URGENT):
        raise InvalidInput("Unknown category.", fields={"category": ["Invalid choice."]})
    if minutes is not None and not 1 <= minutes <= 60 * 24 * 30:
        raise InvalidInput("Give between 1 minute and 30 days.", fields={"minutes": ["Out of range."]})
    policy, _ = SlaPolicy.objects.update_or_create(team=team, category=category, defaults={"minutes": minutes})
    audit_record(actor=actor, verb="sla_policy.set", target=policy, team=team,
                 summary={"category": category, "minutes": minutes})
    return policy


@transaction.atomic
def retention_policy_set(*, actor: User, team: Team, category: str, days: int) -> RetentionPolicy:
    if not permissions.can_manage_retention(actor, team):
        raise NotAllowed("Only an administrator of this team can change how long replies are kept.")
    if category not in CATEGORIES:
        raise InvalidInput("Unknown category.", fields={"category": ["Invalid choice."]})
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"Give between 1 and {MAX_RETENTION_DAYS} days.", fields={"days": ["Out of range."]})
    policy, _ = RetentionPolicy.objects.update_or_create(team=team, category=category, defaults={"days": days})
    audit_record(actor=actor, verb="retention_policy.set", target=policy, team=team,
                 summary={"category": category, "days": days})
    return policy


@transaction.atomic
def category_rule_add(*, actor: User, team: Team, language: str, category: str, pattern: str,
                      weight: float = 1.0) -> CategoryRule:
    if not permissions.can_manage_team(actor, team):
        raise NotAllowed("Only an administrator of this team can change the category rules.")
    language = (language or "*").strip().lower()[:16]
    pattern = (pattern or "").strip()
    if not pattern or len(pattern) > 500:
        raise InvalidInput("Give a pattern of up to 500 characters.", fields={"pattern": ["Required."]})
    try:
        Rule(category, pattern, float(weight))
    except re.error as exc:
        raise InvalidInput(f"The pattern is not a valid regular expression: {exc}.",
                           fields={"pattern": [str(exc)]}) from exc
    except ValueError as exc:
        raise InvalidInput(str(exc), fields={"category": [str(exc)]}) from exc
    if not 0 < float(weight) <= 5:
        raise InvalidInput("Weight is between 0 and 5.", fields={"weight": ["Out of range."]})
    rule = CategoryRule.objects.create(team=team, language=language, category=category, pattern=pattern,
                                       weight=float(weight), created_by=actor)
    audit_record(actor=actor, verb="category_rule.added", target=rule, team=team,
                 summary={"language": language, "category": category, "pattern": pattern, "weight": weight})
    return rule


@transaction.atomic
def category_rule_disable(*, actor: User, rule: CategoryRule) -> CategoryRule:
    if rule.team_id is None or not permissions.can_manage_team(actor, rule.team_id):
        raise NotAllowed("Only an administrator of this team can change the category rules.")
    CategoryRule.objects.filter(pk=rule.pk).update(is_active=False)
    rule.is_active = False
    audit_record(actor=actor, verb="category_rule.disabled", target=rule, team=rule.team_id,
                 summary={"pattern": rule.pattern})
    return rule
