"""The life cycle against a model: after every step, every message is what the model says.

``tests/campaigns/test_state_machine.py`` drives the services at random and checks invariants
(refusals change nothing, approvals are of the current hash...). This machine keeps a model
instead: the status each message should now have, whether it is approved, how many live
approvals and "approved" audit rows it should have. After every step it compares *every*
message, not only the one acted on, so a step that also changed another message (in the same
team, the sister team or another force) fails at once.

Steps: create, edit, submit, approve, request changes, schedule, withdraw, the tick (claim and
send), a pause and a resume of a whole force, and deactivating and reactivating a supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import AuditEvent, Role
from campaigns import publishing
from campaigns.models import Approval, Message, MessageStatus
from campaigns.publishing import delivery_send
from campaigns.services import messages as message_services
from campaigns.services import workflow
from core.errors import InvalidInput, NotAllowed, NotFound, WrongState
from tests.factories import GOOD_BODY, TeamWorld, make_message, member
from tests.invariants.conftest import Forces, make_forces

pytestmark = pytest.mark.django_db

REFUSED = (NotAllowed, NotFound, WrongState, InvalidInput)
EDITABLE = {MessageStatus.DRAFT, MessageStatus.IN_REVIEW, MessageStatus.CHANGES_REQUESTED, MessageStatus.APPROVED,
            MessageStatus.SCHEDULED}
WITHDRAWABLE = {MessageStatus.APPROVED, MessageStatus.SCHEDULED, MessageStatus.PUBLISHING, MessageStatus.PUBLISHED,
                MessageStatus.PARTIALLY_PUBLISHED, MessageStatus.FAILED}


@dataclass
class Expected:
    team: int  # index into Machine.teams
    force: int  # 0 or 1
    status: str = MessageStatus.DRAFT
    live_approvals: int = 0
    approved_audits: int = 0
    edits: int = 0


@dataclass
class Model:
    messages: dict[int, Expected] = field(default_factory=dict)
    paused: set[int] = field(default_factory=set)  # forces
    inactive: set[int] = field(default_factory=set)  # teams whose supervisor is deactivated


def pause(*, actor, force) -> None:
    """A pause of a whole force (the one place to change if the pause's signature changes)."""
    publishing.publishing_pause(actor=actor, reason="Major incident", team=force.pk)


def resume(*, actor, force) -> None:
    publishing.publishing_resume(actor=actor, reason="Over", team=force.pk)


REACHED: dict[str, int] = {}
team_index = st.integers(min_value=0, max_value=2)
pick = st.integers(min_value=0, max_value=10_000)


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self, forces: Forces, force_supervisors: list) -> None:
        super().__init__()
        self.forces = forces
        self.teams: list[TeamWorld] = forces.teams
        self.force_of = [0, 0, 1]
        self.force_teams = [forces.world.force, forces.other_force]
        self.force_supervisors = force_supervisors
        self.model = Model()
        self.ids: list[int] = []
        self._savepoint = transaction.savepoint()
        # The user objects outlive each example's rollback: start from what the database says.
        for tw in self.teams:
            tw.supervisor.refresh_from_db()
            assert tw.supervisor.is_active

    def teardown(self) -> None:
        transaction.savepoint_rollback(self._savepoint)

    def _pick(self, i: int) -> tuple[Message, Expected]:
        pk = self.ids[i % len(self.ids)]
        return Message.objects.get(pk=pk), self.model.messages[pk]

    def _try(self, fn, **kwargs) -> bool:
        name = fn.__name__
        try:
            fn(**kwargs)
        except REFUSED:
            REACHED[f"{name}:refused"] = REACHED.get(f"{name}:refused", 0) + 1
            return False
        REACHED[f"{name}:ok"] = REACHED.get(f"{name}:ok", 0) + 1
        return True

    # --- steps ----------------------------------------------------------------------------

    @precondition(lambda self: len(self.ids) < 8)
    @rule(t=team_index)
    def create(self, t):
        tw = self.teams[t]
        message = make_message(tw)
        self.ids.append(message.pk)
        self.model.messages[message.pk] = Expected(team=t, force=self.force_of[t])

    @precondition(lambda self: self.ids)
    @rule(i=pick)
    def edit(self, i):
        message, exp = self._pick(i)
        tw = self.teams[exp.team]
        ok = self._try(message_services.message_update, actor=tw.officer, message=message,
                       body=f"{GOOD_BODY} Update {exp.edits + 1}.")
        assert ok == (exp.status in EDITABLE), f"edit of a {exp.status} message: {'done' if ok else 'refused'}"
        if ok:
            exp.edits += 1
            exp.status = MessageStatus.DRAFT
            exp.live_approvals = 0

    @precondition(lambda self: self.ids)
    @rule(i=pick)
    def submit(self, i):
        message, exp = self._pick(i)
        ok = self._try(workflow.message_submit, actor=self.teams[exp.team].officer, message=message)
        assert ok == (exp.status in (MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED))
        if ok:
            exp.status = MessageStatus.IN_REVIEW

    @precondition(lambda self: self.ids)
    @rule(i=pick, stranger=st.booleans())
    def approve(self, i, stranger):
        message, exp = self._pick(i)
        # A stranger: the supervisor of another team (the sister team, or the other force's).
        t = (exp.team + 1) % 3 if stranger else exp.team
        ok = self._try(workflow.message_approve, actor=self.teams[t].supervisor, message=message)
        should = (not stranger and exp.status == MessageStatus.IN_REVIEW and exp.team not in self.model.inactive)
        assert ok == should, f"approve by {'a stranger' if stranger else 'its supervisor'} of a {exp.status} message"
        if ok:
            exp.status = MessageStatus.APPROVED
            exp.live_approvals += 1
            exp.approved_audits += 1

    @precondition(lambda self: self.ids)
    @rule(i=pick)
    def request_changes(self, i):
        message, exp = self._pick(i)
        ok = self._try(workflow.message_request_changes, actor=self.teams[exp.team].supervisor2, message=message,
                       comment="Name the roads.")
        assert ok == (exp.status == MessageStatus.IN_REVIEW)
        if ok:
            exp.status = MessageStatus.CHANGES_REQUESTED

    @precondition(lambda self: self.ids)
    @rule(i=pick)
    def schedule(self, i):
        message, exp = self._pick(i)
        ok = self._try(publishing.message_schedule, actor=self.teams[exp.team].officer, message=message,
                       scheduled_at=None)
        assert ok == (exp.status in (MessageStatus.APPROVED, MessageStatus.SCHEDULED))
        if ok:
            exp.status = MessageStatus.SCHEDULED

    @precondition(lambda self: self.ids)
    @rule(i=pick)
    def withdraw(self, i):
        message, exp = self._pick(i)
        ok = self._try(publishing.message_withdraw, actor=self.teams[exp.team].supervisor2, message=message,
                       reason="Cancelled")
        assert ok == (exp.status in WITHDRAWABLE)
        if ok:
            exp.status = MessageStatus.WITHDRAWN

    @precondition(lambda self: self.ids)
    @rule(i=pick)
    def advance(self, i):
        """Take one message as far as it goes: submit, approve, schedule (the deep states are rare
        at random)."""
        _, exp = self._pick(i)
        if exp.status in (MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED):
            self.submit(i)
        if exp.status == MessageStatus.IN_REVIEW:
            self.approve(i, stranger=False)
        if exp.status == MessageStatus.APPROVED:
            self.schedule(i)

    @precondition(lambda self: self.ids)
    @rule(to_review=st.booleans())
    def advance_all(self, to_review):
        """Bring every message to review (or as far as scheduled): many at once in one state is
        where a step that touches more than its own message shows."""
        for i in range(len(self.ids)):
            exp = self.model.messages[self.ids[i]]
            if exp.status in (MessageStatus.DRAFT, MessageStatus.CHANGES_REQUESTED):
                self.submit(i)
            if not to_review:
                self.advance(i)

    @rule()
    def tick(self):
        for delivery_id, token, _ in publishing.deliveries_claim_due():
            delivery_send(delivery_id=delivery_id, token=token)
        for exp in self.model.messages.values():
            if exp.status == MessageStatus.SCHEDULED:
                if exp.force in self.model.paused:
                    REACHED["held by a pause"] = REACHED.get("held by a pause", 0) + 1
                else:
                    exp.status = MessageStatus.PUBLISHED
                    REACHED["published"] = REACHED.get("published", 0) + 1

    @rule(f=st.integers(min_value=0, max_value=1))
    def toggle_pause(self, f):
        actor, force = self.force_supervisors[f], self.force_teams[f]
        if f in self.model.paused:
            resume(actor=actor, force=force)
            self.model.paused.discard(f)
        else:
            pause(actor=actor, force=force)
            self.model.paused.add(f)

    @rule(t=team_index)
    def toggle_supervisor(self, t):
        supervisor = self.teams[t].supervisor
        supervisor.is_active = t in self.model.inactive
        supervisor.save(update_fields=["is_active"])
        self.model.inactive ^= {t}

    # --- every message, after every step --------------------------------------------------

    @invariant()
    def every_message_is_as_modelled(self):
        for pk, exp in self.model.messages.items():
            m = Message.objects.get(pk=pk)
            assert m.status == exp.status, f"message {pk} (team {exp.team}) is {m.status}, expected {exp.status}"
            assert m.is_approved == (exp.status in (MessageStatus.APPROVED, MessageStatus.SCHEDULED,
                                                    MessageStatus.PUBLISHED)), f"message {pk}: is_approved"
            live = Approval.objects.filter(message=m, voided_at__isnull=True).count()
            assert live == exp.live_approvals, f"message {pk}: {live} live approvals, expected {exp.live_approvals}"
            audits = AuditEvent.objects.filter(target_type="campaigns.message", target_id=str(pk),
                                               verb="message.approved").count()
            assert audits == exp.approved_audits, f"message {pk}: {audits} approval audit rows"
            assert m.version == exp.edits + 1, f"message {pk}: version {m.version}, {exp.edits} edits"


SETTINGS = settings(max_examples=80, stateful_step_count=40, deadline=None, derandomize=True,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_the_life_cycle_matches_the_model_for_every_message(db):
    forces = make_forces()
    force_supervisors = [member(forces.world.force, Role.SUPERVISOR, email="force1-sup@engage.test"),
                         member(forces.other_force, Role.SUPERVISOR, email="force2-sup@engage.test")]
    REACHED.clear()
    run_state_machine_as_test(lambda: LifecycleMachine(forces, force_supervisors), settings=SETTINGS)
    # The run must reach the interesting places, or it proves nothing.
    for key in ("message_update:ok", "message_submit:ok", "message_approve:ok", "message_approve:refused",
                "message_request_changes:ok", "message_schedule:ok", "message_withdraw:ok", "published",
                "held by a pause"):
        assert REACHED.get(key, 0) > 0, f"the machine never got to {key}: {REACHED}"
