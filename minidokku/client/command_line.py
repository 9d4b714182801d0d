"""What the client was asked: the global flags before the command (Dokku's `--app APP` and
`--remote NAME`, read here; `--quiet`, `--trace`, `--force` passed on), the command and its
words; and the words the server is sent, with the app added the way Dokku's client adds it.

The app of the remote goes to the server as the global `--app APP`, which a command without an
app ignores (cli/declare.py), so `dokku config:set KEY=V` and `dokku run python manage.py
migrate` need no app name. It is left out where the command runs on no single app (`--global`
or `--all` among the options right after the command, `ps:restore`, as in Dokku's client), and
where the first word after the command is that app already (`dokku apps:destroy catmeow` typed
in catmeow's checkout): sent once, not twice.
"""

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


def _read(argv: list[str]) -> tuple[CommandLine, tuple[str, ...]]:
    """The command line, and the value flags given no value or an empty one (left out of it)."""
    flags, values, unset = [], {}, []
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        name, equals, value = argv[index].partition("=")
        if name in VALUE_FLAGS:
            if not equals and index + 1 < len(argv):
                index += 1
                value = argv[index]
            if value:
                values[name] = value
            else:
                unset.append(name)
        else:
            flags.append(argv[index])
        index += 1
    line = CommandLine(tuple(flags), values.get("--app"), values.get("--remote"), tuple(argv[index:]))
    return line, tuple(unset)


def parse(argv: list[str]) -> CommandLine:
    """The command line; ValidationError for `--app` or `--remote` without a value or with an
    empty one (`--app "$APP"` with APP unset names no app: never the checkout's)."""
    line, unset = _read(argv)
    if unset:
        raise ValidationError(f"{unset[0]} needs a value, and was given none or an empty one")
    return line


def asks_for_remote(argv: list[str]) -> bool:
    """`--remote` among the global flags, with a value or not (the client then says what is wrong)."""
    line, unset = _read(argv)
    return line.remote is not None or "--remote" in unset


def gets_app(line: CommandLine, app: str) -> bool:
    """Whether the server is sent `--app app` before this command (see the module's docstring)."""
    if line.command in NO_APP_COMMANDS or any(word in WHOLE_PLATFORM_FLAGS for word in _leading_options(line)):
        return False
    return line.named_app != app


def _leading_options(line: CommandLine) -> list[str]:
    """The options right after the command, up to its first other word: where `--all` and
    `--global` are the command's own, not words of a program `run` is given or of a value."""
    words = list(line.words[1:])
    return words[: next((index for index, word in enumerate(words) if not word.startswith("-")), len(words))]


def request(line: CommandLine, app: Optional[str]) -> list[str]:
    """The words the server is sent; `dokku` alone asks for its help."""
    words = list(line.words) or ["help"]
    if app is not None and gets_app(line, app):
        return [*line.flags, "--app", app, *words]
    return [*line.flags, *words]


def random_app_name() -> str:
    import secrets  # here: every server command reads this module, and none of them needs it

    adjectives, nouns = NAME_WORDS
    return f"{secrets.choice(adjectives)}-{secrets.choice(nouns)}-{secrets.randbelow(10000):04d}"
