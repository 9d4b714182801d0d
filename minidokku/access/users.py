"""Acting as the dokku user when root runs a command, as Dokku does (`sudo -u dokku`), so that
every file written stays usable by pushes over ssh, which run as that user."""

import os
import pwd
import sys
from pathlib import Path

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def reexec_as_owner_of(root: Path, program: list[str]) -> None:
    """When root runs us and the state root belongs to another user, run this same command
    again as that user (a fresh process: root's own files, like its Python, may be unreadable
    to it). Returns only when nothing needs to change."""
    if os.geteuid() != 0 or not root.is_dir():
        return
    owner = root.stat().st_uid
    if owner == 0:
        return
    account = pwd.getpwuid(owner)
    os.setgroups(os.getgrouplist(account.pw_name, account.pw_gid))
    os.setgid(account.pw_gid)
    os.setuid(owner)
    env = dict(os.environ, HOME=account.pw_dir, USER=account.pw_name, LOGNAME=account.pw_name, PATH=SYSTEM_PATH)
    if not os.access(".", os.R_OK | os.X_OK):  # keep the caller's folder (relative paths) when we may
        os.chdir(account.pw_dir)
    os.execve(program[0], [*program, *sys.argv[1:]], env)
