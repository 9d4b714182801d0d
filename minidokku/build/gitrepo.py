"""git, through its own commands (argv lists, never a shell): bare repos, hooks, archives.

Every revision or branch given to git here is checked first (a 40-hex object id, a branch name
per `git check-ref-format --branch`, see records/names.py) and follows `--end-of-options` where git
takes it, so that nothing, even a value read from a record, can reach git as an option such
as `--output=FILE`.
"""

import contextlib
import functools
import io
import os
import shlex
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from minidokku.access.git_remotes import Remote
from minidokku.access.urls import Destination
from minidokku.errors import GitError, ValidationError
from minidokku.records import names
from minidokku.state import atomic_write

HOOK_MARKER = "# written by minidokku"
NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}  # fail, never ask
MAX_TREE_BYTES = 512 * 1024 * 1024  # a commit's files unpacked: a build holds its tar in memory
FETCH_TIMEOUT = 300  # seconds a clone may take: a stalled server (git:// has no speed limit) must not hold a push
GC_TIMEOUT = 600  # seconds repo:gc may take, holding the app's lock
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                   "NO_PROXY")  # fmt: skip


def _git(
    args: list[str],
    cwd: Optional[Path] = None,
    input_bytes: Optional[bytes] = None,
    env: Optional[dict[str, Optional[str]]] = None,
    timeout: Optional[float] = None,
) -> bytes:
    """env: what changes in our environment (without git's own variables); a None value removes it."""
    environment = _without_removed(dict(_outside_any_repo(), **env)) if env else None
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, input=input_bytes, capture_output=True, env=environment, timeout=timeout,
            start_new_session=True,  # git and its hooks need no terminal: none of ours (access/users.py)
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} failed: it took more than {timeout:.0f} s") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(result.returncode)}")
    return result.stdout


def _outside_any_repo() -> dict[str, str]:
    """Our environment without git's own variables: inside the pre-receive hook they point at
    the app's repo and its quarantine, which a git command on another repo must not see."""
    return {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}


def _without_removed(env: dict[str, Optional[str]]) -> dict[str, str]:
    return {key: value for key, value in env.items() if value is not None}


def _nothing_of_this_machine(home: Path) -> dict[str, Optional[str]]:
    """The environment changes for git on a tenant's URL: none of this machine's configuration
    and credentials (HOME and XDG_CONFIG_HOME are home, a new empty folder, so neither the dokku
    user's ~/.netrc, which `git:auth` writes and git's libcurl reads, nor its credential files
    are found) and no proxy (a proxy would look the name up again; None: removed)."""
    home.mkdir()
    env: dict[str, Optional[str]] = dict(
        GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, HOME=str(home), XDG_CONFIG_HOME=str(home)
    )
    env.update(dict.fromkeys(PROXY_VARIABLES))
    return env


def init_bare(repo: Path) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    _git(["init", "--quiet", "--bare", "--end-of-options", str(repo)])


def pre_receive_hook(program: list[str], root: Path, app: str) -> str:
    command = " ".join(shlex.quote(word) for word in ["env", f"DOKKU_ROOT={root}", *program, "git-hook", app])
    return f"#!/bin/sh\n{HOOK_MARKER}: builds and deploys a push to the deploy branch\nexec {command}\n"


def install_pre_receive_hook(repo: Path, program: list[str], root: Path, app: str) -> None:
    """Makes sure the repo's pre-receive hook calls us back (rewritten only when it differs)."""
    hook = repo / "hooks" / "pre-receive"
    content = pre_receive_hook(program, root, app)
    if not hook.is_file() or hook.read_text(encoding="utf-8") != content:
        atomic_write(hook, content, mode=0o755)


def copy_history(source: Path, repo: Path) -> None:
    """Gives the bare repo every branch and tag of the bare repo source, and its HEAD (apps:clone).
    A local fetch: no hook of either repo runs."""
    _git(["--git-dir", str(repo), "fetch", "--quiet", "--end-of-options", str(source),
          "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"])  # fmt: skip
    head = _git(["--git-dir", str(source), "symbolic-ref", "--quiet", "HEAD"]).decode().strip()
    _git(["--git-dir", str(repo), "symbolic-ref", "HEAD", head])


def limit_push_size(repo: Path, max_bytes: int) -> None:
    """Makes receive-pack refuse a push whose pack is larger than max_bytes (receive.maxInputSize)."""
    _git(["config", "--file", str(repo / "config"), "receive.maxInputSize", str(int(max_bytes))])


def receive_pack(repo: Path, max_bytes: int) -> int:
    """Runs git's own receive-pack on the repo, talking to the ssh client on our stdin/stdout,
    refusing a pack larger than max_bytes. The limit goes on its command line: a push writes
    nothing to the repo's config, whose lock two pushes at once would fight over."""
    limit = f"receive.maxInputSize={int(max_bytes)}"
    return subprocess.call(["git", "-c", limit, "receive-pack", "--end-of-options", str(repo)])


def upload_pack(repo: Path) -> int:
    return subprocess.call(["git-upload-pack", "--end-of-options", str(repo)])


def branch_head(repo: Path, branch: str) -> Optional[str]:
    """The commit a branch points at, or None when the repo has no such branch."""
    revision = f"refs/heads/{names.validate_branch(branch)}^{{commit}}"
    try:
        head = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", revision], cwd=repo).decode().strip()
    except GitError:
        return None
    return names.validate_object_id(head)


def read_file(repo: Path, sha: str, path: str) -> Optional[str]:
    """A file of the tree of commit sha (40 hex), or None when it has none (or git cannot say)."""
    try:
        return read_files(repo, sha, [path])[path]
    except GitError:
        return None


def read_files(repo: Path, sha: str, paths: Sequence[str]) -> dict[str, Optional[str]]:
    """Files of the tree of commit sha (40 hex), read by one git command: path -> its text, or
    None when the tree has no file there (nothing, or a folder). A link's text is its target."""
    sha = names.validate_object_id(sha)
    if any("\n" in path for path in paths):
        raise ValidationError("a path to read from git has a line break")
    request = "".join(f"{sha}:{path}\n" for path in paths).encode()
    output = _git(["cat-file", "--batch"], cwd=repo, input_bytes=request)
    texts: dict[str, Optional[str]] = {}
    position = 0
    for path in paths:  # each answer: `OID TYPE SIZE` and the content, or `NAME missing`
        end = output.index(b"\n", position)
        header = output[position:end].split()
        position = end + 1
        if header[-1] == b"missing":
            texts[path] = None
            continue
        size = int(header[2])
        content = output[position : position + size]
        position += size + 1
        texts[path] = content.decode("utf-8", "replace") if header[1] == b"blob" else None
    return texts


def archive(repo: Path, sha: str, prefix: str = "app/", with_git_dir: bool = False) -> bytes:
    """The tree of commit sha (40 hex) as a tar, every path under `prefix`. A tree larger than
    MAX_TREE_BYTES unpacked is refused before it is unpacked: a push under the size limit can
    hold a file of zeros that packs to a thousandth of its size. with_git_dir (git:set
    keep-git-dir): the tar also has `PREFIX.git`, see _add_git_dir."""
    sha = names.validate_object_id(sha)
    check_tree_size(repo, sha)
    files = _git(["archive", "--format=tar", f"--prefix={prefix}", "--end-of-options", sha], cwd=repo)
    return _add_git_dir(repo, sha, files, prefix) if with_git_dir else files


def _add_git_dir(repo: Path, sha: str, files: bytes, prefix: str) -> bytes:
    """files (a tar of sha's tree) with PREFIX.git: a copy of the repo (no hooks, none of its
    config, no remote naming the host's repo) whose HEAD is sha, detached, and whose index is
    sha's tree, so that in the unpacked tree git sees a clean checkout of sha with its history."""
    with tempfile.TemporaryDirectory(prefix="minidokku-git-dir-") as scratch:
        git_dir = Path(scratch) / ".git"
        _git(["clone", "--quiet", "--bare", "--template=", "--", str(repo), str(git_dir)])
        for args in (["config", "core.bare", "false"], ["remote", "remove", "origin"],
                     ["update-ref", "--no-deref", "HEAD", sha], ["read-tree", sha]):  # fmt: skip
            _git(["--git-dir", str(git_dir), *args])
        size = _folder_size(git_dir) + len(files)
        if size > MAX_TREE_BYTES:
            raise ValidationError(
                f"the commit's files and .git add up to {size // 2**20} MiB, more than {MAX_TREE_BYTES // 2**20} MiB"
            )
        buffer = io.BytesIO(files)
        with tarfile.open(fileobj=buffer, mode="a") as tar:
            tar.add(git_dir, arcname=f"{prefix}.git")
        return buffer.getvalue()


def check_tree_size(repo: Path, sha: str) -> None:
    """Refuses a commit whose files add up to more than MAX_TREE_BYTES unpacked."""
    size = tree_size(repo, sha)
    if size > MAX_TREE_BYTES:
        raise ValidationError(
            f"the commit's files add up to {size // 2**20} MiB unpacked, more than {MAX_TREE_BYTES // 2**20} MiB"
        )


def tree_size(repo: Path, sha: str) -> int:
    """What the files of commit sha add up to, unpacked (read from git's tree, nothing unpacked)."""
    listing = _git(["ls-tree", "-r", "-l", "--end-of-options", names.validate_object_id(sha)], cwd=repo)
    sizes = (line.split(b"\t", 1)[0].split()[-1] for line in listing.splitlines())
    return sum(int(size) for size in sizes if size.isdigit())  # a submodule's size is "-"


def fetch_tree(url: str, ref: str, folder: Path, pinned: Optional[Destination] = None) -> None:
    """Clones url at ref (a branch, tag or commit; the default branch when empty) into folder, as
    plain files without .git (symlinks stay symlinks); folder appears whole or not at all. Raises
    GitError with git's reason. With pinned (a tenant's URL as urls.destination checked it), git
    connects to the checked address only, over that one protocol, follows no redirect and reads
    none of this machine's git configuration, credentials (~/.netrc) or proxies."""
    names.validate_revision(ref)
    clone_args = ["clone", "--quiet", "--template=", "--no-recurse-submodules"]  # no hooks, no submodules
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".fetch-") as scratch:
        env, source = (
            (_pinned_environment(pinned, Path(scratch)), _pinned_source(pinned)) if pinned else (NO_PROMPT, url)
        )
        run_git = functools.partial(_git, env=env, timeout=FETCH_TIMEOUT)
        tree = Path(scratch) / "tree"
        if ref:
            try:  # a branch or tag: only its last commit
                run_git([*clone_args, "--depth", "1", "--branch", ref, "--", source, str(tree)])
            except GitError:  # a commit
                shutil.rmtree(tree, ignore_errors=True)
                run_git([*clone_args, "--", source, str(tree)])
                run_git(["checkout", "--quiet", ref, "--"], cwd=tree)
        else:
            run_git([*clone_args, "--depth", "1", "--", source, str(tree)])
        shutil.rmtree(tree / ".git", ignore_errors=True)
        try:
            os.rename(tree, folder)
        except OSError:  # another command fetched it meanwhile
            if not folder.is_dir():
                raise


def _pinned_environment(pinned: Destination, scratch: Path) -> dict[str, Optional[str]]:
    settings = _network_settings(pinned.scheme, pinned)
    env = dict(NO_PROMPT, **_nothing_of_this_machine(scratch / "home"), GIT_CONFIG_COUNT=str(len(settings)))
    for index, (key, value) in enumerate(settings.items()):
        env.update({f"GIT_CONFIG_KEY_{index}": key, f"GIT_CONFIG_VALUE_{index}": value})
    return env


def _network_settings(protocol: str, pinned: Optional[Destination]) -> dict[str, str]:
    """git's settings for a fetch from a URL someone else chose: that one protocol only, no
    redirect, a stalled server fails; pinned: connect to the checked address, never a new lookup."""
    settings = {
        "protocol.allow": "never",
        f"protocol.{protocol}.allow": "always",
        "http.followRedirects": "false",
        "http.lowSpeedLimit": "1000",  # bytes a second, for lowSpeedTime seconds: a stalled server fails
        "http.lowSpeedTime": "60",
    }
    if pinned is not None and pinned.scheme != "git" and not pinned.host_is_address:  # git:// names the address
        address = f"[{pinned.address}]" if ":" in pinned.address else pinned.address
        settings["http.curloptResolve"] = f"{pinned.host}:{pinned.port}:{address}"
    return settings


def _pinned_source(pinned: Destination) -> str:
    """git:// has no way to be told an address for a name: the URL names the address itself."""
    return pinned.with_address() if pinned.scheme == "git" else pinned.url


def commit_directory(repo: Path, directory: Path, branch: str, message: str) -> str:
    """Commits the files of directory as the next commit of branch, without moving the branch
    (see move_branch); returns the commit's sha."""
    identity = {"GIT_AUTHOR_NAME": "minidokku", "GIT_AUTHOR_EMAIL": "minidokku@localhost"}
    identity.update(GIT_COMMITTER_NAME="minidokku", GIT_COMMITTER_EMAIL="minidokku@localhost")
    with tempfile.TemporaryDirectory(prefix="minidokku-index-") as scratch:
        env = dict(
            identity, GIT_INDEX_FILE=str(Path(scratch) / "index"), GIT_DIR=str(repo), GIT_WORK_TREE=str(directory)
        )
        _git(["add", "--all", "--force", "."], cwd=directory, env=env)
        tree = _git(["write-tree"], cwd=directory, env=env).decode().strip()
        parent = branch_head(repo, branch)  # validates branch
        parents = ["-p", parent] if parent else []
        # commit-tree has no --end-of-options: the tree is git's own answer, checked like the parent
        tree = names.validate_object_id(tree)
        commit = _git(["commit-tree", tree, *parents, "-m", message], cwd=directory, env=env).decode().strip()
        return names.validate_object_id(commit)


def push_directory(directory: Path, repo: Path, branch: str, message: str, each_line: Callable[[str], None]) -> None:
    """Commits the files of directory in a scratch repository and pushes that commit to branch of
    the bare repo with `git push`, as from a checkout: repo's receive-pack runs its hooks (a push
    to an app's repo deploys it). Each line git prints, the hooks' as `remote: ...`, goes to
    each_line as it comes; GitError when the push is refused."""
    with tempfile.TemporaryDirectory(prefix="minidokku-push-") as scratch:
        source = Path(scratch) / "source.git"
        init_bare(source)
        sha = commit_directory(source, directory, branch, message)
        refspec = f"{sha}:refs/heads/{names.validate_branch(branch)}"
        argv = ["git", "--git-dir", str(source), "push", "--end-of-options", str(repo), refspec]
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_outside_any_repo(), start_new_session=True
        ) as process:
            for line in process.stdout:
                each_line(line.decode("utf-8", "replace").rstrip())  # git pads `remote:` lines
        if process.returncode != 0:
            raise GitError(f"git push to {repo} failed (exit {process.returncode}): its output is above")


def same_files(repo: Path, sha: str, other: str) -> bool:
    """Whether commits sha and other (40 hex each) have the same tree."""
    return _tree_of(repo, sha) == _tree_of(repo, other)


def _tree_of(repo: Path, sha: str) -> str:
    revision = f"{names.validate_object_id(sha)}^{{tree}}"
    return _git(["rev-parse", "--verify", "--quiet", "--end-of-options", revision], cwd=repo).decode().strip()


def move_branch(repo: Path, branch: str, sha: str) -> None:
    ref = f"refs/heads/{names.validate_branch(branch)}"
    _git(["update-ref", "--end-of-options", ref, names.validate_object_id(sha)], cwd=repo)


def collect_garbage(repo: Path, aggressive: bool) -> None:
    """`git gc` on an app's bare repository (repo:gc): packs its objects, prunes the unreachable
    ones git's default expiry lets go. Bounded whoever pushed the objects: a small push of big,
    highly compressible blobs would otherwise take gigabytes of memory and minutes of CPU to
    repack: one thread, a memory cap on the delta window, big files stored without deltas, and a
    time limit, after which git and the children it started (repack, pack-objects) are killed.
    aggressive: `--aggressive`, as Dokku runs it, for an admin's app."""
    limits = ["-c", "pack.windowMemory=256m", "-c", "pack.threads=1", "-c", "core.bigFileThreshold=16m"]
    argv = ["git", *limits, "gc", *(["--aggressive"] if aggressive else []), "--quiet"]
    output = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    with subprocess.Popen(argv, cwd=repo, env=_outside_any_repo(), start_new_session=True, **output) as process:
        try:
            _, errors = process.communicate(timeout=GC_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise GitError(f"git gc failed: it took more than {GC_TIMEOUT} s") from None
    if process.returncode != 0:
        message = errors.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git gc failed: {message[-1] if message else 'exit ' + str(process.returncode)}")


# -- git:sync: a commit of a repository someone names, into an app's repo -----------------------
FETCHED_REF = "refs/minidokku/fetched"  # in the quarantine repo only


@dataclass(frozen=True)
class Fetched:
    """What fetch_commit brought: the commit, and the remote branch it is the head of ("" when
    the ref was a tag or a commit)."""

    sha: str
    branch: str


def fetch_commit(
    repo: Path,
    remote: Remote,
    ref: str,
    max_bytes: int,
    timeout: float = FETCH_TIMEOUT,
    default_branches: Sequence[str] = (),
) -> Fetched:
    """Fetches ref of remote (a branch or tag name, a 40-hex commit, or "" for the remote's
    default branch: the one its HEAD names, else the first of default_branches it has) into the
    objects of the bare repo, moving none of its refs. The remote's
    objects land first in a quarantine repo (borrowing repo's objects, so only new ones come):
    more than max_bytes there, or more than timeout seconds, and git is stopped and nothing
    reaches repo. git runs with the remote's one protocol, no hooks, no submodules, objects
    checked (transfer.fsckObjects), no prompt, and for a tenant (remote.pinned) none of this
    machine's configuration, credentials or proxies."""
    names.validate_revision(ref)
    with tempfile.TemporaryDirectory(prefix="minidokku-sync-") as scratch:
        quarantine = Path(scratch) / "repo.git"
        _git(["init", "--quiet", "--bare", "--template=", "--end-of-options", str(quarantine)])
        (quarantine / "objects" / "info" / "alternates").write_text(f"{(repo / 'objects').resolve()}\n")
        remote_git = _RemoteGit(remote, Path(scratch), quarantine, max_bytes, timeout)
        source, branch = _remote_ref(remote_git, ref, default_branches)
        remote_git.run("fetch", ["--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
                                 "--", remote.url, f"+{source}:{FETCHED_REF}"])  # fmt: skip
        revision = f"{FETCHED_REF}^{{commit}}"
        sha = names.validate_object_id(
            _git(["rev-parse", "--verify", "--quiet", "--end-of-options", revision], cwd=quarantine).decode().strip()
        )
        check_tree_size(quarantine, sha)
        _git(["--git-dir", str(repo), "-c", f"core.hooksPath={os.devnull}", "fetch", "--quiet", "--no-tags",
              "--no-write-fetch-head", "--end-of-options", str(quarantine), FETCHED_REF])  # fmt: skip
        return Fetched(sha, branch)


def _remote_ref(remote_git: "_RemoteGit", ref: str, default_branches: Sequence[str]) -> tuple[str, str]:
    """The remote ref to fetch for ref, and the branch it is ("" for a tag or commit): a commit
    is fetched by its id; a name is the remote's branch of that name, else its tag; no name is
    the branch the remote's HEAD names, else the first of default_branches it has."""
    if names.OBJECT_ID.fullmatch(ref):
        return ref, ""
    candidates = [ref] if ref else [names.validate_branch(branch) for branch in default_branches]
    patterns = [f"refs/heads/{ref}", f"refs/tags/{ref}"] if ref else ["HEAD", *(f"refs/heads/{b}" for b in candidates)]
    listing = remote_git.run("ls-remote", ["--symref", "--", remote_git.remote.url, *patterns])
    found, head_branch = set(), ""
    for line in listing.decode("utf-8", "replace").splitlines():
        value, _tab, name = line.partition("\t")
        found.add(name)
        if name == "HEAD" and value.startswith("ref: refs/heads/"):
            head_branch = value.removeprefix("ref: refs/heads/")
    if not ref and head_branch:
        return f"refs/heads/{names.validate_branch(head_branch)}", head_branch
    for branch in candidates:
        if f"refs/heads/{branch}" in found:
            return f"refs/heads/{branch}", branch
    if ref and f"refs/tags/{ref}" in found:
        return f"refs/tags/{ref}", ""
    if ref:
        raise GitError(f"the repository has no branch or tag {ref}")
    if "HEAD" in found:
        return "HEAD", ""
    raise GitError("the repository has no default branch: name a branch, tag or commit")


class _RemoteGit:
    """git commands that talk to remote, bounded in time and in what they write."""

    def __init__(self, remote: Remote, scratch: Path, quarantine: Path, max_bytes: int, timeout: float):
        self.remote = remote
        self.quarantine = quarantine
        self.max_bytes = max_bytes
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.settings = _network_settings(remote.protocol, remote.pinned)
        self.settings.update({"core.hooksPath": os.devnull, "transfer.fsckObjects": "true",
                              # old GitHub trees have these modes: harmless, and common
                              "fetch.fsck.zeroPaddedFilemode": "ignore",
                              "fetch.recurseSubmodules": "false", "submodule.recurse": "false"})  # fmt: skip
        self.env = self._environment(scratch)

    def _environment(self, scratch: Path) -> dict[str, str]:
        env: dict[str, Optional[str]] = dict(_outside_any_repo(), GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1")
        if self.remote.pinned is not None:  # a tenant's: nothing of this machine's to use
            env.update(_nothing_of_this_machine(scratch / "home"))
        if self.remote.home is not None:
            env["HOME"] = str(self.remote.home)
        if self.remote.known_hosts is not None:
            env["GIT_SSH_COMMAND"] = _ssh_command(self.remote.known_hosts, self.remote.deploy_keys)
        return _without_removed(env)

    def run(self, name: str, args: list[str]) -> bytes:
        """Runs `git NAME ARGS` in the quarantine repo; stops it past the deadline or when the
        quarantine and what git writes (its output, and the server's `remote:` lines on its
        stderr) grow beyond max_bytes. Returns its output."""
        options = [word for key, value in self.settings.items() for word in ("-c", f"{key}={value}")]
        argv = ["git", *options, "--git-dir", str(self.quarantine), name, *args]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(argv, stdout=out, stderr=err, env=self.env, start_new_session=True)
            why = self._wait(process, out, err)
            if why:
                with contextlib.suppress(ProcessLookupError):  # it may have ended by itself
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise GitError(f"git {name} failed: {why}")
            if process.returncode != 0:
                err.seek(max(0, os.fstat(err.fileno()).st_size - 65536))  # git's reason comes last
                lines = err.read(65536).decode("utf-8", "replace").strip().splitlines()
                raise GitError(f"git {name} failed: {lines[-1] if lines else 'exit ' + str(process.returncode)}")
            out.seek(0)
            return out.read()

    def _wait(self, process: subprocess.Popen, out, err) -> str:
        """Waits for process; why it must be stopped (or what it wrote refused, when it ended
        between two looks), or "" once it ended by itself within the bounds."""
        while True:
            ended = process.poll() is not None
            written = os.fstat(out.fileno()).st_size + os.fstat(err.fileno()).st_size
            if _folder_size(self.quarantine) + written > self.max_bytes:
                return f"the repository is larger than {self.max_bytes // 2**20} MiB"
            if ended:
                return ""
            if time.monotonic() > self.deadline:
                return f"it took more than {self.timeout:.0f} s"
            time.sleep(0.1)


def _folder_size(folder: Path) -> int:
    total = 0
    for parent, _folders, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # a temporary file git has just renamed
                total += os.lstat(os.path.join(parent, name)).st_size
    return total


def _ssh_command(known_hosts: Path, keys: Sequence[Path]) -> str:
    """ssh as git runs it for an admin's ssh remote: never asking, only the hosts of
    known_hosts, with the dokku user's deploy keys (git runs it with a shell, so every word is
    quoted)."""
    words = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}"]
    for key in keys:
        words += ["-i", str(key)]
    return " ".join(shlex.quote(word) for word in words)
