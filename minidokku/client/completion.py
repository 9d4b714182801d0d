"""Shell completion of `dokku` for bash, zsh and fish, by click's machinery: the command names
come from the server's command table (cli/command_table.py, which the zipapp carries) and the
client's own commands, so completing asks no server and loads no command's module; `--remote`
completes the repository's git remotes. The set-up lines (README):

    eval "$(_DOKKU_COMPLETE=bash_source dokku)"                       # ~/.bashrc
    eval "$(_DOKKU_COMPLETE=zsh_source dokku)"                        # ~/.zshrc, after compinit
    _DOKKU_COMPLETE=fish_source dokku > ~/.config/fish/completions/dokku.fish

bash splits words at `:` (COMP_WORDBREAKS), which click's bash script does not expect of names
such as `apps:create`: ours reads the line up to the cursor instead, and hands bash only the
part after the last colon, which is all bash replaces.
"""

import os

import click
from click.shell_completion import BashComplete, CompletionItem, add_completion_class, split_arg_string

from minidokku.cli.command_table import COMMAND_MODULES, FAMILIES
from minidokku.client import local_git, remote_commands

COMPLETE_VAR = "_DOKKU_COMPLETE"
TOP_LEVEL = {"help": "Print the list of commands", "version": "Print dokku's version"}

_BASH_SOURCE = """\
%(complete_func)s() {
    local IFS=$'\\n'
    local line="${COMP_LINE:0:COMP_POINT}"
    local response completion type value
    response=$(env COMP_LINE="$line" %(complete_var)s=bash_complete "$1")
    COMPREPLY=()
    for completion in $response; do
        IFS=',' read -r type value <<< "$completion"
        if [[ $type == 'file' ]]; then
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=("$value")
        fi
    done
    local word="${line##*[[:space:]]}"
    if [[ "$word" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
        local before="${word%%"${word##*:}"}"
        COMPREPLY=("${COMPREPLY[@]#"$before"}")
    fi
    return 0
}
complete -o nosort -F %(complete_func)s %(prog_name)s
"""


class DokkuBashComplete(BashComplete):
    source_template = _BASH_SOURCE

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ.get("COMP_LINE", "")
        words = split_arg_string(line)
        incomplete = "" if not line or line[-1].isspace() else words.pop()
        return words[1:], incomplete


def _remotes(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    names = local_git.remote_names() if local_git.in_repository() else []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def command_names() -> dict[str, str]:
    """Every command `dokku` answers, with what the table says of it (a family's line)."""
    names = {name: FAMILIES.get(name.split(":", 1)[0], "") for name in COMMAND_MODULES}
    names.update({family: description for family, description in FAMILIES.items()})
    names.update({name: "The client's git remotes" for name in remote_commands.COMMANDS})
    names.update(TOP_LEVEL)
    return names


class CommandNames(click.Group):
    """`dokku` as completion sees it: its global options, then a command whose words complete
    as paths (`ssh-keys:add NAME FILE`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(command_names())

    def get_command(self, ctx: click.Context, name: str):
        description = command_names().get(name)
        if description is None:
            return None
        words = click.Argument(["words"], nargs=-1, type=click.Path())
        return click.Command(name, params=[words], help=description, add_help_option=False)


def _group() -> CommandNames:
    options = [
        click.Option(["--app"], help="The command's app"),
        click.Option(["--remote"], help="The git remote naming the server and app", shell_complete=_remotes),
        click.Option(["--quiet"], is_flag=True, help="Leave out the headers"),
        click.Option(["--trace"], is_flag=True, help="Trace the command on the server"),
        click.Option(["--force"], is_flag=True, help="Confirm a destroy"),
    ]
    return CommandNames("dokku", params=options, add_help_option=False)


def complete() -> None:
    """Answers the shell's completion request in COMPLETE_VAR, and exits."""
    add_completion_class(DokkuBashComplete)
    _group().main(args=[], prog_name="dokku", complete_var=COMPLETE_VAR)
