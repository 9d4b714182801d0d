"""What a command costs before it does anything: `dokku apps:list` typed as root and as the root's owner
(the dokku user), and piku's `apps` as its user (`make bench`).

Run as installed (install.sh, benchlib.install_program): the zipapp (dist/minidokku.pyz, `make zipapp`)
unpacked in a folder the owner may read, started by install.sh's `dokku` launcher, on a state root
that belongs to a user of its own (OWNER, made once as install.sh makes the dokku user; this
machine's /home/dokku is left alone). As root, the command goes on as the owner in the same process
(access/users.py). Each figure is the median of CALLS calls after a first one (which warms the page
cache), wall clock from start to exit.
"""

import os
import pwd
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import SYSTEM_PATH, count_from_environment, install_program, run

OWNER = "minidokku-bench"
OWNER_HOME = Path("/var/lib") / OWNER
CALLS = count_from_environment("BENCH_CALLS", 10)


def owner() -> pwd.struct_passwd:
    """The bench's state-root owner, made when missing (a system user with a home of its own)."""
    try:
        return pwd.getpwnam(OWNER)
    except KeyError:
        run(["useradd", "--system", "--create-home", "--home-dir", str(OWNER_HOME), "--shell", "/usr/sbin/nologin",
             OWNER])  # fmt: skip
        return pwd.getpwnam(OWNER)


def timed_calls(call: Callable[[], object], calls: int = CALLS) -> list[float]:
    call()  # warms the page cache
    times = []
    for _ in range(calls):
        started = time.monotonic()
        call()
        times.append(time.monotonic() - started)
    return times


def apps_list_times() -> dict[str, list[float]]:
    """`dokku apps:list` on a root owned by OWNER: typed as root, and as OWNER."""
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        return _apps_list_times(Path(directory), owner())


def _apps_list_times(workdir: Path, account: pwd.struct_passwd) -> dict[str, list[float]]:
    workdir.chmod(0o755)  # the owner runs the program in it
    program = install_program(workdir / "minidokku")
    root = workdir / "dokku-root"
    root.mkdir()
    os.chown(root, account.pw_uid, account.pw_gid)
    argv = [str(program), "apps:list"]
    # root as on a server: the system PATH (the python3 of /usr/bin, not a shim of this machine)
    as_root = dict(os.environ, PATH=SYSTEM_PATH, DOKKU_ROOT=str(root))
    as_owner = {"HOME": account.pw_dir, "USER": OWNER, "LOGNAME": OWNER, "PATH": SYSTEM_PATH, "DOKKU_ROOT": str(root)}

    def by_root() -> None:
        run(argv, env=as_root)

    def by_owner() -> None:
        run(argv, env=as_owner, user=account.pw_uid, group=account.pw_gid, extra_groups=[], cwd=account.pw_dir)

    return {"root": timed_calls(by_root), "owner": timed_calls(by_owner)}


def piku_apps_times() -> list[float]:
    """piku's `apps` as its user (what its ssh forced command runs)."""
    from pikulib import SCRIPT, as_piku

    return timed_calls(lambda: as_piku([str(SCRIPT), "apps"]))


def main() -> None:
    times = apps_list_times()
    for who, found in times.items():
        print(f"dokku apps:list as {who}: median {statistics.median(found):.3f} s of {len(found)}")


if __name__ == "__main__":
    main()
