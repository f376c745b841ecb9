"""Where a force's public contact form goes, for platform operators:
manage.py contact_route FORCE [TEAM] --operator EMAIL  (without TEAM: back to the default rule)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Team, User
from accounts.services import force_contact_route_set
from core.errors import ServiceError


class Command(BaseCommand):
    help = "Choose which team of a force receives its public contact form (/contact/<force>/)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("force", help="the force's short name (slug)")
        parser.add_argument("team", nargs="?", help="the receiving team's slug; omit for the default rule")
        parser.add_argument("--operator", required=True, help="the platform operator (superuser) making the change")

    def handle(self, *args, **options) -> None:
        operator = User.objects.filter(email=options["operator"].lower(), is_active=True).first()
        force = Team.objects.filter(slug=options["force"]).first()
        team = Team.objects.filter(slug=options["team"]).first() if options["team"] else None
        if operator is None or force is None or (options["team"] and team is None):
            raise CommandError("Unknown operator, force or team.")
        try:
            force_contact_route_set(actor=operator, force=force, team=team)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"/contact/{force.slug}/ now goes to {team.name if team else 'the default team'}.")
