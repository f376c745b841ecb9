"""Create a user with a role in a team, for operators: manage.py create_user EMAIL --team SLUG --role ROLE"""

from __future__ import annotations

import getpass
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Role, Team, User
from accounts.services import membership_set, user_create
from core.errors import ServiceError


class Command(BaseCommand):
    help = "Create a user (or give an existing one a role) in a team."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--team", required=True, help="the team's short name (slug)")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", default="")
        parser.add_argument("--password", help="omit to be asked, or use --random-password")
        parser.add_argument("--random-password", action="store_true", help="print a random password")
        parser.add_argument("--intelligence-liaison", action="store_true")

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"No team with the short name {options['team']!r}.")
        user = User.objects.filter(email=options["email"].lower()).first()
        try:
            if user is None:
                password = options["password"]
                if options["random_password"]:
                    password = secrets.token_urlsafe(18)
                    self.stdout.write(f"Password: {password}")
                elif not password:
                    password = getpass.getpass("Password: ")
                user = user_create(email=options["email"], password=password, full_name=options["name"])
            membership_set(user=user, team=team, role=options["role"],
                           intelligence_liaison=options["intelligence_liaison"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"{user.email} is {options['role']} in {team.name}."))
