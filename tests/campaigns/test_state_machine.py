"""Invariant 1, explored: random actions by random people on a few messages, checked after every step.

A hypothesis ``RuleBasedStateMachine`` drives the real services (create, edit, variants,
channels, submit, approve, request changes, schedule, tick-and-send, withdraw, emergency
review, and the team's two-approvals-for-priority switch) as the officer, both supervisors,
the liaison and the admin of team A, and a supervisor of team B. A ``ServiceError`` is a
legal refusal, and a refusal must leave the database as it was. After every step the
invariants below are read back from the database.

Each example runs inside a savepoint that ``teardown`` rolls back, so every example starts
from the same world (built once per test by ``make_world``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import AuditEvent, Role, Team
from accounts.services import team_update_settings
from campaigns import publishing
from campaigns.models import (
    APPROVED_STATES,
    Approval,
    ApprovalKind,
    Delivery,
    DeliveryStatus,
    Message,
    MessageStatus,
    Urgency,
    Variant,
)
from campaigns.services import messages as message_services
from campaigns.services import workflow
from campaigns.services.content import content_hash
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from tests.factories import GOOD_BODY, World, make_message

pytestmark = pytest.mark.django_db

ACTORS = ("officer", "supervisor", "supervisor2", "liaison", "admin", "b_supervisor")
DRAFTING = {"officer", "supervisor", "supervisor2"}
SUPERVISING = {"supervisor", "supervisor2"}

BODIES = (
    GOOD_BODY,
    "Roads near the stadium close at 2pm on Saturday. Please use the train and allow extra time. #DerbyDay",
    "Thank you for your patience after the match. Please leave by the north gate and follow the signs. #DerbyDay",
)
EMERGENCY_BODY = "Please move away from Station Road now, calmly. If you are in danger call 999."
VARIANT_BODIES = {
    "ar": ("يرجى استخدام القطار والسماح بوقت إضافي. #DerbyDay", "الطرق مزدحمة. يرجى استخدام القطار. #DerbyDay"),
    "fr": ("Merci de prendre le train et de prévoir du temps. #DerbyDay",
           "Les routes sont chargées. Prenez le train. #DerbyDay"),
}
CHANNEL_SETS = (("public",), ("public", "mastodon"), ("mastodon",), ("public", "sms"))
# Approved or later: the states in which something may go (or has gone) out.
APPROVED_OR_LATER = frozenset(APPROVED_STATES) | {MessageStatus.WITHDRAWN}
# Every status change a single step may make (a tick claims and sends in one step).
ALLOWED_MOVES = {
    MessageStatus.DRAFT: {MessageStatus.IN_REVIEW},
    MessageStatus.IN_REVIEW: {MessageStatus.APPROVED, MessageStatus.CHANGES_REQUESTED, MessageStatus.DRAFT,
                              MessageStatus.SCHEDULED},  # an emergency approval schedules at once
    MessageStatus.CHANGES_REQUESTED: {MessageStatus.IN_REVIEW, MessageStatus.DRAFT},
    MessageStatus.APPROVED: {MessageStatus.SCHEDULED, MessageStatus.DRAFT, MessageStatus.WITHDRAWN},
    MessageStatus.SCHEDULED: {MessageStatus.DRAFT, MessageStatus.WITHDRAWN, MessageStatus.PUBLISHING,
                              MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.FAILED},
    MessageStatus.PUBLISHING: {MessageStatus.PUBLISHED, MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.FAILED,
                               MessageStatus.WITHDRAWN},
    MessageStatus.PUBLISHED: {MessageStatus.WITHDRAWN},
    MessageStatus.PARTIALLY_PUBLISHED: {MessageStatus.WITHDRAWN, MessageStatus.PUBLISHING},
    MessageStatus.FAILED: {MessageStatus.WITHDRAWN, MessageStatus.PUBLISHING},
    MessageStatus.WITHDRAWN: set(),
}
LIVE_DELIVERY = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT)
APPROVAL_VERBS = {
    ApprovalKind.STANDARD: {"message.approved", "message.approval_added"},
    ApprovalKind.SECOND: {"message.approved", "message.approval_added"},
    ApprovalKind.EMERGENCY_SELF: {"message.approved"},
    ApprovalKind.EMERGENCY_REVIEW: {"message.emergency_reviewed"},
}

MAX_MESSAGES = 3
pick = st.integers(min_value=0, max_value=MAX_MESSAGES - 1)
# Everyone acts, but the people who can do a thing are drawn more often, so runs get somewhere.
actor_names = st.sampled_from(("officer", "officer", "supervisor", "supervisor2", *ACTORS))
approvers = st.sampled_from(("supervisor", "supervisor2", "supervisor", "supervisor2", *ACTORS))


class ApprovalMachine(RuleBasedStateMachine):
    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        a = world.a
        self.users = {"officer": a.officer, "supervisor": a.supervisor, "supervisor2": a.supervisor2,
                      "liaison": a.liaison, "admin": a.admin, "b_supervisor": world.b.supervisor}
        self.channels = {"public": a.public, "mastodon": a.mastodon, "sms": a.sms}
        self.ids: list[int] = []
        self.last_version: dict[int, int] = {}
        self.last_status: dict[int, str] = {}
        self.seen_hashes: dict[int, list[str]] = {}  # every content hash a message has had, for stale approvals
        self.two_approvals = False
        self.audited: set[int] = set()
        # Set by anything that may have written; a refusal is checked to have written nothing,
        # so the invariants only need reading again after a step that changed something.
        self.dirty = True
        self.stats: dict[str, int] = {}
        self._savepoint = transaction.savepoint()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self._savepoint)

    # --- helpers ----------------------------------------------------------------------------

    def _message(self, index: int) -> Message:
        return Message.objects.get(pk=self.ids[index % len(self.ids)])

    def _variant(self, index: int) -> Variant | None:
        variants = list(Variant.objects.filter(message_id__in=self.ids).order_by("id"))
        return variants[index % len(variants)] if variants else None

    def _fingerprint(self) -> tuple:
        """What a refused call must leave exactly as it was."""
        return (
            sorted(Message.objects.values_list("pk", "status", "version", "content_hash", "approved_hash",
                                               "emergency_self_approved", "emergency_reviewed_at")),
            sorted(Approval.objects.values_list("pk", "voided_at")),
            sorted(Delivery.objects.values_list("pk", "status")),
            sorted(Variant.objects.values_list("pk", "body")),
            AuditEvent.objects.count(),
        )

    def _call(self, name: str, actor: str, fn, **kwargs):
        """Run a service. Returns its result, or None when it refused (which must change nothing)."""
        before = self._fingerprint()
        try:
            result = fn(actor=self.users[actor], **kwargs)
        except (NotAllowed, NotFound, WrongState, InvalidInput) as exc:
            assert self._fingerprint() == before, f"{name} by {actor} refused ({exc.code}) but changed data"
            self.stats[f"{name}:refused"] = self.stats.get(f"{name}:refused", 0) + 1
            return None
        self.dirty = True
        self.stats[f"{name}:ok"] = self.stats.get(f"{name}:ok", 0) + 1
        assert actor != "b_supervisor", f"another team's supervisor could {name}"
        return result

    # --- rules ------------------------------------------------------------------------------

    @precondition(lambda self: len(self.ids) < MAX_MESSAGES)
    @rule(actor=actor_names, urgency=st.sampled_from([*Urgency.values, Urgency.EMERGENCY]),
          body=st.integers(0, len(BODIES) - 1),
          channels=st.integers(0, 3))
    def create(self, actor, urgency, body, channels):
        text = EMERGENCY_BODY if urgency == Urgency.EMERGENCY else BODIES[body]
        message = self._call("create", actor, message_services.message_create, campaign=self.world.a.campaign,
                             body=text, urgency=urgency, channels=[self.channels[c] for c in CHANNEL_SETS[channels]],
                             hashtags=["DerbyDay"])
        if message is not None:
            assert actor in DRAFTING
            self.ids.append(message.pk)
            self.seen_hashes[message.pk] = [message.content_hash]

    @precondition(lambda self: self.ids)
    @rule(i=pick, actor=actor_names, what=st.sampled_from(["body", "urgency", "channels"]),
          choice=st.integers(0, 3))
    def edit(self, i, actor, what, choice):
        """An edit of the text, the urgency or the channels (or a save that changes nothing)."""
        message = self._message(i)
        if what == "body":
            kwargs = {"body": EMERGENCY_BODY if message.urgency == Urgency.EMERGENCY else BODIES[choice % 3]}
        elif what == "urgency":
            if message.urgency == Urgency.EMERGENCY:
                return
            kwargs = {"urgency": (Urgency.ROUTINE, Urgency.PRIORITY)[choice % 2]}
        else:
            kwargs = {"channels": [self.channels[c] for c in CHANNEL_SETS[choice]]}
        if self._call("edit", actor, message_services.message_update, message=message, **kwargs) is not None:
            assert actor in DRAFTING

    @precondition(lambda self: self.ids)
    @rule(i=pick, actor=actor_names, op=st.sampled_from(["add", "add", "edit", "remove"]),
          language=st.sampled_from(sorted(VARIANT_BODIES)), which=st.integers(0, 1), on_mastodon=st.booleans())
    def variant(self, i, actor, op, language, which, on_mastodon):
        """Add, edit or remove a language variant."""
        if op == "add":
            self._call("variant_add", actor, message_services.variant_add, message=self._message(i),
                       language=language, body=VARIANT_BODIES[language][which],
                       channels=[self.channels["mastodon"]] if on_mastodon else [])
            return
        variant = self._variant(i)
        if variant is None:
            return
        if op == "edit":
            self._call("variant_edit", actor, message_services.variant_update, variant=variant,
                       body=VARIANT_BODIES[variant.language][which])
        else:
            self._call("variant_remove", actor, message_services.variant_remove, variant=variant)

    @precondition(lambda self: self.ids)
    @rule(i=pick, actor=actor_names)
    def submit(self, i, actor):
        self._call("submit", actor, workflow.message_submit, message=self._message(i))

    @precondition(lambda self: self.ids)
    @rule(i=pick, actor=approvers, expected=st.sampled_from(["none", "current", "current", "stale"]))
    def approve(self, i, actor, expected):
        message = self._message(i)
        if expected == "none":
            expected_hash = None
        elif expected == "current":
            expected_hash = message.content_hash
        else:
            older = [h for h in self.seen_hashes[message.pk] if h != message.content_hash]
            expected_hash = older[-1] if older else "0" * 64
        required = 2 if (message.urgency == Urgency.PRIORITY and self.two_approvals) else 1
        result = self._call("approve", actor, workflow.message_approve, message=message, expected_hash=expected_hash)
        if result is None:
            return
        user = self.users[actor]
        assert actor in SUPERVISING, f"{actor} approved a message"
        assert expected_hash in (None, message.content_hash), "approved although the reviewer saw another hash"
        if result.status in APPROVED_OR_LATER:
            if result.emergency_self_approved:
                assert user.pk == message.author_id and message.urgency == Urgency.EMERGENCY
            else:
                approvers = set(Approval.objects.filter(
                    message=message, version=result.version, content_hash=result.content_hash,
                    voided_at__isnull=True).exclude(approver_id=message.author_id).values_list("approver_id",
                                                                                                flat=True))
                assert len(approvers) >= required, f"approved with {len(approvers)} of {required} approvals"
        else:
            assert result.status == MessageStatus.IN_REVIEW and required == 2

    @precondition(lambda self: self.ids)
    @rule(i=pick, actor=approvers)
    def request_changes(self, i, actor):
        self._call("request_changes", actor, workflow.message_request_changes, message=self._message(i),
                   comment="Please soften the tone.")

    @precondition(lambda self: self.ids)
    @rule(i=pick, actor=actor_names, when=st.sampled_from(["none", "past", "future"]))
    def schedule(self, i, actor, when):
        at = {"none": None, "past": timezone.now() - timedelta(hours=1),
              "future": timezone.now() + timedelta(days=1)}[when]
        self._call("schedule", actor, publishing.message_schedule, message=self._message(i), scheduled_at=at)

    @precondition(lambda self: self.ids)
    @rule(i=pick, actor=approvers)
    def withdraw(self, i, actor):
        self._call("withdraw", actor, publishing.message_withdraw, message=self._message(i), reason="Out of date")

    @precondition(lambda self: self.ids)
    @rule(i=pick, actor=approvers)
    def emergency_review(self, i, actor):
        self._call("emergency_review", actor, workflow.message_emergency_review, message=self._message(i),
                   comment="Checked.")

    @precondition(lambda self: self.ids)
    @rule(i=pick, approver=st.sampled_from(["supervisor", "supervisor2"]))
    def advance(self, i, approver):
        """The usual next step by the usual person, so that runs reach the later states often."""
        message = self._message(i)
        if message.emergency_self_approved and message.emergency_reviewed_at is None:
            self.emergency_review(i, approver)
        elif message.status in (MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED):
            self.submit(i, "officer")
        elif message.status == MessageStatus.IN_REVIEW:
            self.approve(i, approver, "current")
        elif message.status == MessageStatus.APPROVED:
            self.schedule(i, "officer", "past")
        elif message.status in (MessageStatus.SCHEDULED, MessageStatus.PUBLISHING):
            self.tick("sent")

    @precondition(lambda self: self.ids)
    @rule(actor=st.sampled_from(["admin", "admin", "supervisor"]))
    def toggle_two_approvals(self, actor):
        """Only the team's admin may change its settings (a supervisor is refused)."""
        team = Team.objects.get(pk=self.world.a.team.pk)
        wanted = not self.two_approvals
        before = self._fingerprint()
        try:
            team_update_settings(team=team, actor=self.users[actor],
                                 changes={"two_approvals_for_priority": wanted})
        except NotAllowed:
            assert actor != "admin" and self._fingerprint() == before
            return
        assert actor == "admin"
        self.two_approvals = wanted
        self.dirty = True

    @precondition(lambda self: self.ids)
    @rule(outcome=st.sampled_from(["sent", "sent", "failed"]))
    def tick(self, outcome):
        """The beat tick claims due rows; the worker re-checks and 'sends' (no platform call here)."""
        self.dirty = True
        for delivery_id, token, _urgent in publishing.deliveries_claim_due():
            permit = publishing.delivery_begin(delivery_id=delivery_id, token=token)
            if permit is None:
                continue
            message = Message.objects.get(pk=permit.delivery.message_id)
            assert message.approved_hash == content_hash(message), "a send began for unapproved content"
            publishing.delivery_finish(permit=permit, token=token, outcome=outcome, external_id=f"ext-{delivery_id}")
            self.stats[f"send:{outcome}"] = self.stats.get(f"send:{outcome}", 0) + 1

    # --- invariants, read back from the database after every step ---------------------------

    @invariant()
    def check_database(self):
        if not self.dirty:
            return
        self.dirty = False
        supervisors = {self.users["supervisor"].pk, self.users["supervisor2"].pk}
        messages = (Message.objects.filter(pk__in=self.ids).select_related("author")
                    .prefetch_related("channels", "segments", "media", "variants__channels", "approvals",
                                      "versions", "author__memberships"))
        live_delivery_ids = set(Delivery.objects.filter(message_id__in=self.ids, status__in=LIVE_DELIVERY)
                                .values_list("message_id", flat=True))
        for message in messages:
            now_hash = content_hash(message)
            if now_hash not in self.seen_hashes[message.pk]:
                self.seen_hashes[message.pk].append(now_hash)
            assert message.content_hash == now_hash, "stored content_hash is stale"

            # (d) versions only grow, and every version is kept, the latest being the current content.
            assert message.version >= self.last_version.get(message.pk, 1)
            self.last_version[message.pk] = message.version
            versions = sorted((v.version, v.content_hash) for v in message.versions.all())
            assert [v for v, _ in versions] == list(range(1, message.version + 1))
            assert versions[-1][1] == message.content_hash

            previous = self.last_status.get(message.pk, MessageStatus.DRAFT)
            assert message.status == previous or message.status in ALLOWED_MOVES[previous], (
                f"illegal move {previous} -> {message.status}")
            self.last_status[message.pk] = message.status

            approvals = list(message.approvals.all())
            live = [a for a in approvals if a.voided_at is None]
            # Any edit voids every approval: a live approval is always of the current content.
            for approval in live:
                assert (approval.version, approval.content_hash) == (message.version, message.content_hash), (
                    f"live {approval.kind} approval of v{approval.version} on a message at v{message.version}")
            # Only a supervisor of the team approves; only the emergency exception is the author's own.
            for approval in approvals:
                assert approval.approver_id in supervisors
                if approval.kind == ApprovalKind.EMERGENCY_SELF:
                    assert approval.approver_id == message.author_id
                else:
                    assert approval.approver_id != message.author_id, "the author approved their own message"

            if message.status in APPROVED_OR_LATER:
                # (b) what was approved is what is there now.
                assert message.approved_hash, f"{message.status} without an approved hash"
                assert message.approved_hash == now_hash, "approved_hash differs from the content"
                assert message.approved_version == message.version
                # (a) approved by someone else, for this version and hash; or the flagged exception.
                others = [a for a in live if a.approver_id != message.author_id
                          and a.kind in (ApprovalKind.STANDARD, ApprovalKind.SECOND)]
                if message.emergency_self_approved:
                    assert message.urgency == Urgency.EMERGENCY
                    assert Role.SUPERVISOR in {m.role for m in message.author.memberships.all()
                                               if m.team_id == message.team_id}
                    assert any(a.kind == ApprovalKind.EMERGENCY_SELF and a.approver_id == message.author_id
                               for a in live)
                else:
                    assert others, f"{message.status} without a live approval by someone other than the author"
            elif message.emergency_self_approved:
                pytest.fail(f"emergency_self_approved on a {message.status} message")

            # (c) nothing queued, in flight or sent for content other than what was approved.
            if message.pk in live_delivery_ids:
                assert message.status in APPROVED_OR_LATER - {MessageStatus.APPROVED}
                assert message.approved_hash == now_hash, "a live delivery for content edited after approval"

            # (e) every approval is in the audit trail, by its approver (append-only: checked once).
            for approval in approvals:
                if approval.pk in self.audited:
                    continue
                events = AuditEvent.objects.filter(target_type="campaigns.message", target_id=str(message.pk),
                                                   actor_id=approval.approver_id,
                                                   verb__in=APPROVAL_VERBS[approval.kind])
                if approval.kind != ApprovalKind.EMERGENCY_REVIEW:
                    events = events.filter(summary__version=approval.version,
                                           summary__content_hash=approval.content_hash)
                assert events.exists(), f"approval {approval.pk} ({approval.kind}) is not audited"
                self.audited.add(approval.pk)


# Shrinking a failing run replays it hundreds of times (minutes): the unshrunk steps are printed
# anyway, and are readable. Add Phase.shrink locally to minimise a failure.
SETTINGS = settings(max_examples=60, stateful_step_count=40, deadline=None,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_approval_state_machine(world):
    stats: dict[str, int] = {}

    def factory() -> ApprovalMachine:
        machine = ApprovalMachine(world)
        machine.stats = stats
        return machine

    run_state_machine_as_test(factory, settings=SETTINGS)
    # The run must actually reach the interesting places, or it proves nothing.
    for key in ("create:ok", "edit:ok", "edit:refused", "variant_add:ok", "submit:ok", "approve:ok",
                "approve:refused", "schedule:ok"):
        assert stats.get(key, 0) > 0, f"the machine never got to {key}: {stats}"


def test_machine_walks_the_rare_paths(world):
    """The same rules and invariants, in a fixed order through the paths random runs reach least
    often: emergency self-approval and its review, two approvals for priority, withdrawal after
    sending, an edit after scheduling, and a supervisor's own routine message."""
    machine = ApprovalMachine(world)
    steps = [
        ("create", {"actor": "supervisor", "urgency": Urgency.EMERGENCY, "body": 0, "channels": 1}),
        ("submit", {"i": 0, "actor": "supervisor"}),
        ("approve", {"i": 0, "actor": "supervisor", "expected": "current"}),  # self-approval: flagged
        ("emergency_review", {"i": 0, "actor": "supervisor"}),  # refused: the author
        ("emergency_review", {"i": 0, "actor": "supervisor2"}),
        ("tick", {"outcome": "sent"}),
        ("withdraw", {"i": 0, "actor": "officer"}),  # refused: not a supervisor
        ("withdraw", {"i": 0, "actor": "supervisor2"}),
        ("toggle_two_approvals", {"actor": "admin"}),
        ("create", {"actor": "officer", "urgency": Urgency.PRIORITY, "body": 1, "channels": 0}),
        ("variant", {"i": 1, "actor": "officer", "op": "add", "language": "ar", "which": 0, "on_mastodon": False}),
        ("submit", {"i": 1, "actor": "officer"}),
        ("approve", {"i": 1, "actor": "supervisor", "expected": "none"}),  # one of two
        ("approve", {"i": 1, "actor": "supervisor", "expected": "none"}),  # refused: the same person
        ("approve", {"i": 1, "actor": "supervisor2", "expected": "stale"}),  # refused: saw another hash
        ("approve", {"i": 1, "actor": "supervisor2", "expected": "current"}),
        ("schedule", {"i": 1, "actor": "officer", "when": "future"}),
        ("variant", {"i": 0, "actor": "officer", "op": "edit", "language": "ar", "which": 1,
                     "on_mastodon": False}),  # the priority message's variant: voids, skips its deliveries
        ("tick", {"outcome": "sent"}),
        ("create", {"actor": "supervisor2", "urgency": Urgency.ROUTINE, "body": 2, "channels": 0}),
        ("submit", {"i": 2, "actor": "officer"}),
        ("approve", {"i": 2, "actor": "supervisor2", "expected": "current"}),  # refused: their own message
        ("approve", {"i": 2, "actor": "supervisor", "expected": "current"}),
    ]
    try:
        machine.check_database()
        for name, kwargs in steps:
            getattr(machine, name)(**kwargs)
            machine.check_database()
    finally:
        machine.teardown()
    for key in ("emergency_review:ok", "emergency_review:refused", "withdraw:ok", "withdraw:refused",
                "approve:refused", "variant_edit:ok", "send:sent"):
        assert machine.stats.get(key, 0) > 0, f"{key} not reached: {machine.stats}"
    assert machine.stats["approve:ok"] == 4


# --- a focused finding from exploring the machine ---------------------------------------------

def test_a_supervisor_cannot_approve_text_they_wrote_into_someone_elses_message(world):
    message = make_message(world.a)
    message_services.message_update(actor=world.a.supervisor, message=message,
                                    body="Roads near the stadium close at 2pm on Saturday. Please use the train. "
                                         "#DerbyDay")
    message = workflow.message_submit(actor=world.a.supervisor, message=message)
    with pytest.raises(NotAllowed):
        workflow.message_approve(actor=world.a.supervisor, message=message)

