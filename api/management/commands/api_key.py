"""Create, list and revoke API keys for service clients; a new key is printed once and stored hashed."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import ApiKey, ApiKeyScope
from api.services import api_key_create, api_key_revoke


class Command(BaseCommand):
    help = "Manage API keys: create USER NAME --scope read --scope create | list | revoke PREFIX"

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        create = verbs.add_parser("create", help="a new key acting as USER (printed once)")
        create.add_argument("username")
        create.add_argument("name")
        create.add_argument("--scope", action="append", choices=ApiKeyScope.values, required=True)
        verbs.add_parser("list", help="every key, without secrets")
        revoke = verbs.add_parser("revoke", help="revoke the key with this prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, verb: str, **options) -> None:
        if verb == "create":
            user = get_user_model().objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"No user {options['username']!r}.")
            key, raw_key = api_key_create(user=user, name=options["name"], scopes=options["scope"])
            self.stdout.write(f"{raw_key}\n")
            self.stderr.write(f"Key {key.prefix} for {user.get_username()} ({', '.join(key.scopes)}); not shown again.")
        elif verb == "list":
            for key in ApiKey.objects.select_related("user"):
                state = "revoked" if key.revoked else "active"
                self.stdout.write(
                    f"{key.prefix}  {state:7}  {key.user.get_username():20} {','.join(key.scopes):12} "
                    f"{key.name}  last used {key.last_used_at or 'never'}\n"
                )
        else:
            key = ApiKey.objects.filter(prefix=options["prefix"]).first()
            if key is None:
                raise CommandError(f"No key with prefix {options['prefix']!r}.")
            api_key_revoke(key=key)
            self.stdout.write(f"Revoked {key.prefix}.\n")
