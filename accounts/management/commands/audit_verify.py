"""manage.py audit_verify [--head ID:HASH ...]: walk the audit trail's hash chain (accounts.audit_chain).

Exits 1 naming the first bad row when a row was changed, removed or inserted out of order, or when a
published head is no longer in the chain; on success the last line is the head reached, ``ID:HASH``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import audit_chain


class Command(BaseCommand):
    help = ("Verify the audit trail's hash chain. Exits non-zero naming the first bad row; on success prints "
            "the chain head as ID:HASH on its last line.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--head", action="append", default=[], metavar="ID:HASH",
            help="a published chain head (from /transparency/audit-head.json or a copy of it): proves nothing "
                 "up to it was truncated or rewritten. May be given more than once.")
        parser.add_argument("--database", default="default", help="the database to verify (default: default)")

    def handle(self, *args, **options) -> None:
        try:
            heads = [audit_chain.parse_head(text) for text in options["head"]]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        result = audit_chain.verify(using=options["database"], heads=heads)
        if not result.ok:
            for problem in result.problems[:20]:
                self.stderr.write(problem)
            if len(result.problems) > 20:
                self.stderr.write(f"... and {len(result.problems) - 20} more")
            raise CommandError(f"The audit trail does not verify: first bad row {result.bad_id}.")
        checked = f", {len(heads)} published head(s) found in it" if heads else ""
        self.stdout.write(f"{result.rows} audit rows verified{checked}. Head:")
        self.stdout.write(result.head_text)
