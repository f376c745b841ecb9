"""Issue 15 item 6: replies go first to the staff who read their language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Membership, Role
from accounts.services import user_set_reading_languages
from core.errors import InvalidInput, NotAllowed
from engage.inbound import policies, selectors
from engage.metrics import equity
from tests.engage.inbound_helpers import make_reply
from tests.factories import UserFactory, approve_template, make_other_force

pytestmark = pytest.mark.django_db

TIGRINYA = "ሰላም፡ ኣብ ስታድዮም እንታይ ኣሎ ሎሚ ምሸት? ካበይ ክኣቱ እኽእል እዩ?"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reads(user, *codes: str) -> None:
    user_set_reading_languages(actor=user, user=user, codes=codes)


def liaison(tw, email: str, *, on_duty: bool = True, languages: tuple[str, ...] = ()):
    user = UserFactory(email=email, full_name=email.split("@")[0].capitalize())
    Membership.objects.create(user=user, team=tw.team, role=Role.LIAISON, on_duty=on_duty)
    if languages:
        reads(user, *languages)
    return user


def test_a_tigrinya_reply_is_offered_to_the_on_duty_liaison_who_reads_tigrinya(world):
    liaison(world.a, "arabic@engage.test", languages=("ar",))
    off_duty = liaison(world.a, "offduty@engage.test", on_duty=False, languages=("ti",))
    reader = liaison(world.a, "tigrinya@engage.test", languages=("ti", "am"))
    reply = make_reply(world.a, text=TIGRINYA)
    assert reply.language == "ti"

    assert selectors.suggested_assignee(reply) == reader
    readers = selectors.language_readers(reply.team_id, "ti")
    assert readers["on_duty"] == [reader] and readers["off_duty"] == [off_duty]

    page = signed_in(world.a.supervisor).get(reverse("inbox:detail", kwargs={"pk": reply.pk}))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Readers of Tigrinya on this team: Tigrinya (on duty), Offduty." in html
    assert "No one on duty reads Tigrinya" not in html
    # The assignment choice offers the reader first, and preselected.
    assert page.context["assign_form"].initial["assignee"] == reader.pk
    assert page.context["assign_form"].fields["assignee"].choices[1][0] == reader.pk
    # And the inbox list raises no alarm for Tigrinya.
    listing = signed_in(world.a.liaison).get(reverse("inbox:list"))
    assert not [g for g in listing.context["no_reader"] if g["language"] == "ti"]


def test_the_inbox_says_when_no_one_on_duty_reads_the_language(world):
    liaison(world.a, "offduty@engage.test", on_duty=False, languages=("ti",))
    reply = make_reply(world.a, text=TIGRINYA)
    assert selectors.suggested_assignee(reply) is None

    html = signed_in(world.a.liaison).get(reverse("inbox:detail", kwargs={"pk": reply.pk})).content.decode()
    assert "No one on duty reads Tigrinya." in html
    listing = signed_in(world.a.liaison).get(reverse("inbox:list"))
    assert {"team": world.a.team.name, "language": "ti", "name": "Tigrinya", "open": 1} in listing.context["no_reader"]
    assert "No one on duty reads the language of these open replies" in listing.content.decode()
    # Team B sees nothing of team A's replies, so no banner about them.
    assert not signed_in(world.b.liaison).get(reverse("inbox:list")).context["no_reader"]


def test_another_forces_reader_and_a_deactivated_reader_are_never_chosen(world):
    _force, other = make_other_force("C")
    Membership.objects.filter(user=other.liaison, team=other.team).update(on_duty=True)
    reads(other.liaison, "ti")
    gone = liaison(world.a, "gone@engage.test", languages=("ti",))
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    team_b_reader = liaison(world.b, "teamb@engage.test", languages=("ti",))

    reply = make_reply(world.a, text=TIGRINYA)
    readers = selectors.language_readers(reply.team_id, "ti")
    assert readers == {"on_duty": [], "off_duty": []}
    assert selectors.suggested_assignee(reply) is None
    assert team_b_reader not in readers["on_duty"]
    html = signed_in(world.a.supervisor).get(reverse("inbox:detail", kwargs={"pk": reply.pk})).content.decode()
    assert "No one on duty reads Tigrinya." in html
    assert other.liaison.display_name not in html.split("Readers of Tigrinya")[1].split("</p>")[0]


def test_equity_view_counts_replies_per_language_against_readers(world):
    liaison(world.a, "t1@engage.test", languages=("ti",))
    liaison(world.a, "t2@engage.test", on_duty=False, languages=("ti", "ar"))
    gone = liaison(world.a, "gone@engage.test", languages=("ti",))
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    make_reply(world.a, text=TIGRINYA)
    make_reply(world.a, text=TIGRINYA + " ኣሎ")
    make_reply(world.a, text="When do the gates open for the match on Saturday afternoon?")

    page = signed_in(world.a.supervisor).get(reverse("dashboard:index") + f"?team={world.a.team.pk}")
    assert page.status_code == 200
    rows = {row["key"]: row for row in page.context["readers"]}
    assert rows["ti"]["label"] == "Tigrinya"
    assert (rows["ti"]["replies"], rows["ti"]["readers"], rows["ti"]["readers_on_duty"]) == (2, 2, 1)
    assert (rows["en"]["replies"], rows["en"]["readers"], rows["en"]["no_reader"]) == (1, 0, True)
    assert 'id="language-readers"' in page.content.decode()
    # The same numbers straight from the function.
    assert equity.readers_by_language({world.a.team.pk}, [{"key": "ti", "label": "Tigrinya", "replies": 2,
                                                          "needing_answer": 2}])[0]["readers"] == 2


def test_templates_in_the_replys_language_are_offered_first(world):
    made = {}
    for language, title in (("en", "Aaa gates"), ("ti", "Zzz gates")):
        template = policies.answer_template_save(actor=world.a.supervisor, team=world.a.team, title=title,
                                                 body=f"Gates open at 18:00 ({language}).", language=language,
                                                 purpose="general")
        made[language] = approve_template(template, world.a.supervisor2)
    reply = make_reply(world.a, text=TIGRINYA)
    page = signed_in(world.a.liaison).get(reverse("inbox:detail", kwargs={"pk": reply.pk}))
    ids = [pk for pk, _label in page.context["respond_form"].fields["template"].choices if pk]
    assert ids.index(made["ti"].pk) < ids.index(made["en"].pk)
    english = make_reply(world.a, text="When do the gates open for the match on Saturday afternoon?")
    page = signed_in(world.a.liaison).get(reverse("inbox:detail", kwargs={"pk": english.pk}))
    ids = [pk for pk, _label in page.context["respond_form"].fields["template"].choices if pk]
    assert ids.index(made["en"].pk) < ids.index(made["ti"].pk)


def test_staff_set_the_languages_they_read_and_bad_codes_are_refused(world):
    client = signed_in(world.a.liaison)
    url = reverse("desk_accounts:reading_languages")
    assert client.get(url).status_code == 200
    response = client.post(url, {"languages": ["ti", "ckb", "ps", "so"]})
    assert response.status_code == 302
    world.a.liaison.refresh_from_db()
    assert world.a.liaison.reads_languages == ["ckb", "ps", "so", "ti"]
    assert AuditEvent.objects.filter(verb="user.reading_languages_set", actor=world.a.liaison).exists()

    bad = client.post(url, {"languages": ["ti", "xx-not-a-language"]})
    assert bad.status_code == 400
    assert "Unknown language code: xx-not-a-language." in bad.content.decode()
    world.a.liaison.refresh_from_db()
    assert world.a.liaison.reads_languages == ["ckb", "ps", "so", "ti"]

    with pytest.raises(InvalidInput):
        user_set_reading_languages(actor=world.a.liaison, user=world.a.liaison, codes=["klingon"])


def test_a_team_administrator_sets_a_members_languages_and_no_one_else_does(world):
    url = reverse("desk_accounts:reading_languages_of", kwargs={"user_id": world.a.liaison.pk})
    assert signed_in(world.a.admin).post(url, {"languages": ["ti"]}).status_code == 302
    world.a.liaison.refresh_from_db()
    assert world.a.liaison.reads_languages == ["ti"]
    for stranger in (world.b.admin, world.a.supervisor, world.a.officer):
        assert signed_in(stranger).post(url, {"languages": ["ar"]}).status_code == 404
    with pytest.raises(NotAllowed):
        user_set_reading_languages(actor=world.b.admin, user=world.a.liaison, codes=["ar"])
    world.a.liaison.refresh_from_db()
    assert world.a.liaison.reads_languages == ["ti"]
