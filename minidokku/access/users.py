"""Acting as the dokku user when root runs a command, as Dokku does (`sudo -u dokku`), so that
every file written stays usable by pushes over ssh, which run as that user.

Root becomes the state root's owner inside its own process (setgroups, setgid, setuid: there is
no way back), before the command reads or writes any state. The rest of the run may still import
code and read the program's own files (the buildpack scripts), so this needs the folders the
program runs from to be readable by the owner; where they are not (a zipapp that shiv unpacked
under root's home), the command is run again as the owner, from its own copy.

Root's environment stays root's: the owner's process keeps only what a command needs of it
(owner_environment), so nothing root set (SHIV_ROOT, its ssh agent, PYTHON*, GIT_*) reaches the
run as the owner nor the programs it starts; those that need no terminal start outside root's
terminal session (start_new_session), so none of them can type into root's shell."""

import os
import pwd
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What the owner's run keeps of root's environment: the terminal and language, the time zone, who
# typed it (events.actor), and the program's own settings (DOKKU_ROOT, MINIDOKKU_*, DOKKU_* for
# plugins); PATH, HOME, USER and LOGNAME become the owner's.
KEPT_VARIABLES = frozenset(("TERM", "LANG", "LANGUAGE", "TZ", "SUDO_USER"))
KEPT_PREFIXES = ("LC_", "DOKKU_", "MINIDOKKU_")


def act_as_owner_of(root: Path, code_folders: Iterable[Path], program: Callable[[], list[str]]) -> None:
    """When root runs us and the state root belongs to another user, go on as that user; the
    command is run again (program(), read while still root) only when the owner could not read
    code_folders. Returns only when nothing needs to change or the process is the owner's."""
    if os.geteuid() != 0 or not root.is_dir():
        return
    owner = root.stat().st_uid
    if owner == 0:
        return
    account = pwd.getpwuid(owner)
    groups = os.getgrouplist(account.pw_name, account.pw_gid)
    rerun = None if all(readable_by(folder, owner, groups) for folder in code_folders) else program()
    os.setgroups(groups)
    os.setgid(account.pw_gid)
    os.setuid(owner)
    kept = owner_environment(os.environ, account)
    os.environ.clear()
    os.environ.update(kept)
    if not may_enter(os.getcwd()):  # keep the caller's folder (relative paths) when the owner may
        os.chdir(account.pw_dir if may_enter(account.pw_dir) else "/")
    if rerun is not None:
        os.execve(rerun[0], [*rerun, *sys.argv[1:]], os.environ)


def may_enter(folder: str) -> bool:
    """Whether this process may list folder and reach it from / (its absolute path: "." would
    only ask about the folder itself, not the folders above it, such as root's 0700 home)."""
    return os.access(folder, os.R_OK | os.X_OK)


def owner_environment(environment: Mapping[str, str], account: pwd.struct_passwd) -> dict[str, str]:
    """Of root's environment, what the owner's run keeps (KEPT_VARIABLES, KEPT_PREFIXES), with
    the owner's HOME, USER, LOGNAME and the system's PATH."""
    kept = {k: v for k, v in environment.items() if k in KEPT_VARIABLES or k.startswith(KEPT_PREFIXES)}
    return dict(kept, HOME=account.pw_dir, USER=account.pw_name, LOGNAME=account.pw_name, PATH=SYSTEM_PATH)


def readable_by(folder: Path, uid: int, groups: Iterable[int]) -> bool:
    """Whether the user uid (in groups) may list folder and reach it from /: every folder above
    lets them through (x), the folder itself also lets them read (r). Decided from the modes, so
    root can ask it for someone else."""
    folder = Path(os.path.realpath(folder))
    gids = set(groups)
    for above in reversed(folder.parents):
        if not permits(above.stat(), uid, gids, stat.S_IXOTH):
            return False
    return permits(folder.stat(), uid, gids, stat.S_IROTH | stat.S_IXOTH)


def permits(info: os.stat_result, uid: int, gids: set[int], wanted: int) -> bool:
    """Whether the file's mode grants uid every bit of wanted (given as the "others" bits): the
    owner's bits for its owner, the group's to its group, the others' to everyone else, as the
    kernel decides."""
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid == uid:
        granted = mode >> 6
    elif info.st_gid in gids:
        granted = mode >> 3
    else:
        granted = mode
    return granted & wanted == wanted
