"""Acting as the dokku user when root runs a command, as Dokku does, so that every file written
stays usable by pushes over ssh (which run as that user)."""

import os
import pwd
from pathlib import Path


def act_as_owner_of(root: Path) -> None:
    """When running as root and the state root belongs to another user, become that user."""
    if os.geteuid() != 0 or not root.is_dir():
        return
    owner = root.stat().st_uid
    if owner == 0:
        return
    account = pwd.getpwuid(owner)
    os.setgroups(os.getgrouplist(account.pw_name, account.pw_gid))
    os.setgid(account.pw_gid)
    os.setuid(owner)
    os.environ.update(HOME=account.pw_dir, USER=account.pw_name, LOGNAME=account.pw_name)
