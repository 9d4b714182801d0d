"""What the client was asked: the global flags before the command (Dokku's `--app APP` and
`--remote NAME`, read here; `--quiet`, `--trace`, `--force` passed on), the command and its
words; and the words the server is sent, with the app added the way Dokku's client adds it.

The app of the remote goes to the server as the global `--app APP`, which a command without an
app ignores (cli/declare.py), so `dokku config:set KEY=V` and `dokku run python manage.py
migrate` need no app name. It is left out where the command runs on no single app (`--global`,
`--all`, `ps:restore`, as in Dokku's client), and where the first word after the command is that
app already (`dokku apps:destroy catmeow` typed in catmeow's checkout): sent once, not twice.
"""

import secrets
from dataclasses import dataclass
from typing import Optional

from minidokku.errors import ValidationError

VALUE_FLAGS = ("--app", "--remote")
WHOLE_PLATFORM_FLAGS = ("--global", "--all")
NO_APP_COMMANDS = frozenset({"ps:restore"})
# `apps:create` with no app anywhere: a name made of these, as Dokku's client makes one up.
NAME_WORDS = (
    ("amber", "brisk", "calm", "dusty", "eager", "fuzzy", "gentle", "humble", "jolly", "lucky", "misty", "nimble"),
    ("badger", "comet", "falcon", "harbor", "lantern", "maple", "otter", "pebble", "quartz", "river", "sparrow"),
)


@dataclass(frozen=True)
class CommandLine:
    flags: tuple[str, ...]  # the global flags passed on, in their order
    app: Optional[str]  # --app
    remote: Optional[str]  # --remote
    words: tuple[str, ...]  # the command, then its words

    @property
    def command(self) -> str:
        return self.words[0] if self.words else ""

    @property
    def named_app(self) -> Optional[str]:
        """The first word after the command that is not an option: where Dokku's commands take
        their app."""
        return next((word for word in self.words[1:] if not word.startswith("-")), None)


def parse(argv: list[str]) -> CommandLine:
    flags, values = [], {}
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        name, equals, value = argv[index].partition("=")
        if name in VALUE_FLAGS:
            if not equals:
                if index + 1 == len(argv):
                    raise ValidationError(f"{name} needs a value")
                index += 1
                value = argv[index]
            values[name] = value
        else:
            flags.append(argv[index])
        index += 1
    return CommandLine(tuple(flags), values.get("--app"), values.get("--remote"), tuple(argv[index:]))


def gets_app(line: CommandLine, app: str) -> bool:
    """Whether the server is sent `--app app` before this command (see the module's docstring)."""
    if line.command in NO_APP_COMMANDS or any(word in WHOLE_PLATFORM_FLAGS for word in line.words[1:]):
        return False
    return line.named_app != app


def request(line: CommandLine, app: Optional[str]) -> list[str]:
    """The words the server is sent; `dokku` alone asks for its help."""
    words = list(line.words) or ["help"]
    if app is not None and gets_app(line, app):
        return [*line.flags, "--app", app, *words]
    return [*line.flags, *words]


def random_app_name() -> str:
    adjectives, nouns = NAME_WORDS
    return f"{secrets.choice(adjectives)}-{secrets.choice(nouns)}-{secrets.randbelow(10000):04d}"
