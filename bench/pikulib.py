"""piku on this machine, beside minidokku: installed as its README says, run for a bench in its own nginx.

`python bench/pikulib.py install REPO` (`make bench-piku`; `ensure REPO`: unless installed) installs
it the way piku's docs/INSTALL.md does by hand: Debian's nginx, uwsgi and uwsgi-plugin-python3 (with
python3-click and virtualenv, which piku.py and its Python deploys call), a `piku` user in the
www-data group, piku.py fetched from REPO (its public repository, or a clone) into that user's home,
and `piku.py setup` run as it.

A bench then runs it (PikuBench) without touching anything else on the machine:

- uwsgi's emperor runs as the piku user on ~/.piku/uwsgi/uwsgi.ini (what uwsgi-piku.service starts);
- nginx is the bench's own (`-p`/`-c` in a temporary folder) on a free loopback port. piku writes its
  sites to ~/.piku/nginx for a system nginx on ports 80 and 443 and relies on systemd
  (piku-nginx.path) to reload it on every change; this machine has no systemd, so NginxFollower
  plays that unit's part: on each change it copies the sites into the bench's nginx with their port 80
  listen moved to the loopback port (the 443 ones left out: no TLS in the bench) and reloads it;
- pushes go to `piku.py git-receive-pack catmeow` run as the piku user, which is what its ssh key's
  forced command runs (git's ext:: transport instead of ssh: minidokku's bench pushes without ssh too);
- the app's nginx name is set in ~/.piku/envs/catmeow/ENV before its first push, where
  `piku config:set` writes (config:set wants a deployed app).
"""

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

from benchlib import GIT_IDENTITY, HOST, BenchError, Served, free_port, run

USER = "piku"
GROUP = "www-data"
HOME = Path("/home") / USER
SCRIPT = HOME / "piku.py"
PIKU_ROOT = HOME / ".piku"
EMPEROR_INI = PIKU_ROOT / "uwsgi" / "uwsgi.ini"
PACKAGES = ["nginx", "uwsgi", "uwsgi-plugin-python3", "python3-click", "virtualenv", "git"]
USER_PATH = "/usr/local/bin:/usr/bin:/bin"
APP = "catmeow"
REACH_TIMEOUT = 30.0
FOLLOW_INTERVAL = 0.02  # seconds between looks at ~/.piku/nginx (systemd's path units use inotify)
STOP_TIMEOUT = 30.0
RELOAD_TIMEOUT = 10.0
LISTEN_80 = re.compile(r"^(\s*listen\s+)\S+:80;\s*$")
LISTEN_OTHER = re.compile(r"^\s*listen\s+")


def installed() -> bool:
    """piku's user, piku.py and its setup's emperor config are there (`make bench-piku` was run)."""
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return False
    return SCRIPT.is_file() and EMPEROR_INI.is_file()


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a login of the piku user (what its ssh sessions and its service get)."""
    return {"HOME": str(HOME), "USER": USER, "LOGNAME": USER, "PATH": USER_PATH, "LANG": "C.UTF-8", **extra}


def as_piku(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return run(argv, user=USER, group=GROUP, extra_groups=[], env=user_env(), cwd=HOME, **kwargs)


def install(repo: str) -> str:
    """Installs piku from repo (a URL or a path); returns the commit of piku.py installed."""
    reach = subprocess.run(["git", "ls-remote", repo, "HEAD"], capture_output=True, text=True,
                           timeout=REACH_TIMEOUT, env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))  # fmt: skip
    if reach.returncode != 0 or not reach.stdout.strip():
        reason = (reach.stderr.strip().splitlines() or ["no HEAD"])[-1]
        raise BenchError(f"piku's repository {repo} is not reachable ({reason}); give PIKU_REPO=a reachable clone")
    run(["apt-get", "install", "-y", "-qq", *PACKAGES], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    try:
        pwd.getpwnam(USER)
    except KeyError:
        run(["adduser", "--disabled-password", "--gecos", "PaaS access", "--ingroup", GROUP, USER])
    with tempfile.TemporaryDirectory(prefix="piku-src-") as directory:
        source = Path(directory) / "piku"
        run(["git", "clone", "-q", "--depth", "1", repo if "://" in repo else f"file://{Path(repo).resolve()}",
             str(source)])  # fmt: skip
        commit = run(["git", "-C", str(source), "rev-parse", "HEAD"]).stdout.strip()
        shutil.copyfile(source / "piku.py", SCRIPT)
    account = pwd.getpwnam(USER)
    os.chown(SCRIPT, account.pw_uid, account.pw_gid)
    SCRIPT.chmod(0o755)
    as_piku(["python3", str(SCRIPT), "setup"])
    return commit


class NginxFollower:
    """What piku-nginx.path and piku-nginx.service do under systemd: reload nginx whenever piku
    changes ~/.piku/nginx. The sites go to sites with their port 80 listen moved to port (and
    their other listens, 443, left out); each change is applied in one reload."""

    def __init__(self, nginx: list[str], pid_file: Path, sites: Path, port: int):
        self.nginx, self.pid_file, self.sites, self.port = nginx, pid_file, sites, port
        self.seen: dict[str, tuple[int, int]] = {}
        self.reloads = 0
        self.error: Optional[BaseException] = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def start(self) -> None:
        self.apply()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _follow(self) -> None:
        try:
            while not self._stop.wait(FOLLOW_INTERVAL):
                self.apply()
        except BaseException as error:  # raised again by the bench's next look (in_sync)
            self.error = error

    def state(self) -> dict[str, tuple[int, int]]:
        found = {}
        for path in (PIKU_ROOT / "nginx").glob("*.conf"):
            try:
                status = path.stat()
            except FileNotFoundError:  # removed meanwhile (piku destroy): the next look sees it
                continue
            found[path.name] = (status.st_mtime_ns, status.st_size)
        return found

    def apply(self) -> None:
        now = self.state()
        if now == self.seen:
            return
        for old in self.sites.glob("*.conf"):
            if old.name not in now:
                old.unlink()
        for name in now:
            try:
                text = (PIKU_ROOT / "nginx" / name).read_text()
            except FileNotFoundError:
                continue
            (self.sites / name).write_text(rendered(text, self.port))
        before = self.workers()
        run([*self.nginx, "-s", "reload"])
        self.wait_reloaded(before)
        self.seen = now
        self.reloads += 1

    def workers(self) -> set[int]:
        """nginx's worker processes (the children of its master)."""
        master = (self.pid_file).read_text().strip()
        children = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue  # a process that ended meanwhile
            if fields[1] == master:
                children.add(int(stat.parent.name))
        return children

    def wait_reloaded(self, before: set[int]) -> None:
        """Until every worker that ran before the reload is gone: from then on only the new
        configuration answers (`nginx -s reload` only signals the master)."""
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while self.workers() & before:
            if time.monotonic() > deadline:
                raise BenchError(f"nginx's workers {sorted(before)} still run {RELOAD_TIMEOUT:.0f} s after a reload")
            time.sleep(0.005)

    def in_sync(self) -> bool:
        """Whether the last reload applied piku's sites as they are now."""
        if self.error is not None:
            raise BenchError(f"following piku's nginx sites failed: {self.error}")
        return self.state() == self.seen


def rendered(site: str, port: int) -> str:
    """piku's site for the bench's nginx: `listen ADDRESS:80;` → `listen 127.0.0.1:PORT;`, other listens dropped."""
    lines = []
    for line in site.splitlines():
        moved = LISTEN_80.match(line)
        if moved:
            lines.append(f"{moved.group(1)}127.0.0.1:{port};")
        elif not LISTEN_OTHER.match(line):
            lines.append(line)
    return "\n".join(lines) + "\n"


class PikuBench(Served):
    """piku's emperor and a bench nginx running, catmeow's source committed in workdir (not yet
    pushed). close() destroys the app and stops both; the caller removes workdir."""

    def __init__(self, workdir: Path):
        if not installed():
            raise BenchError("piku is not installed here: run `make bench-piku` first")
        self.port = free_port()
        nginx_dir = workdir / "piku-nginx"
        sites = nginx_dir / "sites"
        sites.mkdir(parents=True)
        (nginx_dir / "nginx.conf").write_text(
            f"pid {nginx_dir}/nginx.pid;\nerror_log {nginx_dir}/error.log;\nevents {{}}\n"
            f"http {{ access_log off; client_body_temp_path {nginx_dir}/body; proxy_temp_path {nginx_dir}/proxy;\n"
            f"server {{ listen 127.0.0.1:{self.port} default_server; return 404; }}\ninclude {sites}/*.conf; }}\n"
        )
        self.nginx = ["nginx", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")]
        self.env = dict(os.environ, **GIT_IDENTITY)
        self.emperor: Optional[subprocess.Popen] = None
        self.destroy()  # what an interrupted bench may have left
        run(self.nginx)
        self.follower = NginxFollower(self.nginx, nginx_dir / "nginx.pid", sites, self.port)
        try:
            self.follower.start()
            self.emperor = subprocess.Popen(
                ["uwsgi", "--ini", str(EMPEROR_INI)], user=USER, group=GROUP, extra_groups=[], env=user_env(),
                cwd=HOME, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            self.copy_source(workdir / "piku-src")
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def configure(self) -> None:
        """The app's nginx name (and no IPv6 listen), where `piku config:set` keeps them."""
        env_dir = PIKU_ROOT / "envs" / APP
        as_piku(["mkdir", "-p", str(env_dir)])
        as_piku(["sh", "-c", f'printf "NGINX_SERVER_NAME={HOST}\\nDISABLE_IPV6=true\\n" > "{env_dir}/ENV"'])

    def push(self) -> None:
        """git push over ext::, to what piku's ssh forced command runs: `piku.py git-receive-pack APP`."""
        if not (PIKU_ROOT / "envs" / APP / "ENV").is_file():
            self.configure()
        remote = f"ext::runuser -u {USER} -- env -i HOME={HOME} USER={USER} PATH={USER_PATH} {SCRIPT} %S {APP}"
        self.git("-c", "protocol.ext.allow=always", "push", "-q", remote, "main")

    def serves(self, page: Optional[str] = None) -> bool:
        """The page (page: exactly that one) serves through nginx after it was reloaded with piku's
        sites as they are."""
        return self.follower.in_sync() and super().serves(page)

    def piku(self, *args: str) -> subprocess.CompletedProcess:
        """piku.py run as its user, as over ssh."""
        return as_piku([str(SCRIPT), *args])

    def destroy(self) -> None:
        """`piku destroy catmeow` when it was pushed."""
        if (PIKU_ROOT / "apps" / APP).exists() or (PIKU_ROOT / "repos" / APP).exists():
            self.piku("destroy", APP)

    def close(self) -> None:
        """Destroys the app, stops the emperor (SIGQUIT, as its service does: its vassals stop
        with it), the follower and nginx."""
        try:
            self.destroy()
        finally:
            if self.emperor is not None:
                self.emperor.send_signal(signal.SIGQUIT)
                try:
                    self.emperor.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.emperor.kill()
                    self.emperor.wait()
            if self.follower._thread.is_alive():
                self.follower.stop()
            subprocess.run([*self.nginx, "-s", "quit"], capture_output=True)


def main() -> None:
    """`install REPO`: installs (again); `ensure REPO`: installs unless piku is installed."""
    if len(sys.argv) != 3 or sys.argv[1] not in ("install", "ensure"):
        sys.exit("usage: pikulib.py install|ensure REPO")
    if sys.argv[1] == "ensure" and installed():
        return
    try:
        commit = install(sys.argv[2])
    except BenchError as error:
        sys.exit(str(error))
    print(f"piku installed: {SCRIPT} from {sys.argv[2]} at {commit[:12]}, run as the user {USER}")


if __name__ == "__main__":
    main()
