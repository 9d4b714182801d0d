"""Arguments that reach a program: what a key sends that could end up in git's or openssl's argv.

The attacker is a user key with an app of its own (tenant's rights, nothing more); the victim is
an app of the admin. At each door: a forged revision that git would read as an option
(`--output=FILE` makes `git archive` write FILE), a ref or branch git would refuse, an internal
command called over ssh, a certificate tarball that unpacks to far more than it weighs, a
certificate name that openssl would read as an option. Each is refused with one clear line and a
non-zero exit, creates no file, changes nothing, and the victim serves on (conftest.py).
"""

import gzip
import io
import subprocess
import tarfile

import pytest
from helpers import APPS, git, make_git_repo
from security_helpers import VICTIM, assert_refused, events_of, quoted, state_of

from minidokku.access import rules
from minidokku.records import names
from minidokku.runtime import labels

ATTACKER = "mallory"
OWN_APP = "mallory-app"


@pytest.fixture(scope="module")
def attacker(ssh_client, victim):
    """A user key with one app of its own, created over ssh within its quota."""
    client = ssh_client.with_key(ATTACKER, rules.USER)
    created = client.ssh(quoted("apps:create", OWN_APP))
    assert created.returncode == 0, created.stderr
    return client


@pytest.fixture
def output_target(platform):
    """Where a forged `--output=` would make git write: inside the root, so state_of sees it too."""
    path = platform.root / "written-by-git"
    yield path
    assert not path.exists(), "git took a forged revision for an option and wrote a file"


def ssh_with_stdin(client, command: str, stdin: bytes) -> subprocess.CompletedProcess:
    result = subprocess.run([*client.ssh_command, "--", "root@127.0.0.1", command], input=stdin, capture_output=True)
    result.stdout, result.stderr = result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
    return result


def forged_hook_lines(target) -> bytes:
    """What git's pre-receive hook reads, with a NEW that `git archive` would take as an option."""
    return f"{names.ZERO_OBJECT_ID} --output={target} refs/heads/main\n".encode()


def victim_web_container(platform, engine) -> str:
    namespace = platform.settings()["NAMESPACE"]
    containers = engine.list_containers({labels.APP: f"{namespace}{VICTIM}", labels.PROCESS_TYPE: "web"})
    return containers[0]["Id"]


@pytest.mark.parametrize("app", [VICTIM, OWN_APP])
@pytest.mark.parametrize("prefix", [[], ["--"]])
@pytest.mark.parametrize("role", ["user", "admin"])
def test_git_hook_over_ssh_is_refused_for_every_key(
    platform, engine, ssh_client, attacker, output_target, app, prefix, role
):
    client = attacker if role == "user" else ssh_client
    before, events_before = state_of(platform, engine), events_of(platform)

    result = ssh_with_stdin(client, quoted(*prefix, "git-hook", app), forged_hook_lines(output_target))

    assert_refused(result, "git-hook is internal to minidokku: it is never run over ssh")
    assert result.stderr.count("\n") == 1, result.stderr
    assert state_of(platform, engine) == before
    assert [line.split("\t")[3:5] for line in events_of(platform)[len(events_before) :]] == [[app, "denied"]]


@pytest.mark.parametrize("role", ["user", "admin"])
def test_ps_retire_over_ssh_is_refused_for_every_key(platform, engine, ssh_client, attacker, role):
    client = attacker if role == "user" else ssh_client
    web = victim_web_container(platform, engine)
    before = state_of(platform, engine)

    result = client.ssh(quoted("ps:retire", "--wait", "0", web))

    assert_refused(result, "ps:retire is internal to minidokku: it is never run over ssh")
    assert state_of(platform, engine) == before
    assert engine.inspect_container(web)["State"]["Running"]


@pytest.mark.parametrize("branch", ["--output={target}", "-x"])
def test_a_pushed_branch_that_reads_as_an_option_is_refused(
    platform, engine, attacker, output_target, tmp_path, branch
):
    """git accepts `refs/heads/--output=...` as a ref name; only the hook's branch rule (git's
    own `check-ref-format --branch`) keeps such a name from ever reaching an argv."""
    branch = branch.replace("{target}", str(output_target))
    repo = make_git_repo(tmp_path / "repo", APPS / "envecho")
    before = state_of(platform, engine)

    pushed = git(repo, "push", f"{attacker.remote_prefix}{OWN_APP}", f"HEAD:refs/heads/{branch}",
                 check=False, env=attacker.git_env())  # fmt: skip

    assert_refused(pushed, f"invalid branch name {branch!r}: not HEAD and no - at the start")
    assert "pre-receive hook declined" in pushed.stderr
    assert state_of(platform, engine) == before


def test_the_hook_itself_refuses_a_forged_revision(platform, engine, output_target):
    """The hook as git runs it, on the host, fed a line git would never write: the validation
    behind the internal-command rule."""
    before = state_of(platform, engine)

    result = platform.dokku("git-hook", VICTIM, input=forged_hook_lines(output_target), check=False)

    assert_refused(result, f"invalid object id '--output={output_target}': expected 40 hexadecimal digits")
    assert state_of(platform, engine) == before


def tar_bomb() -> bytes:
    """64 MiB of zeros in 64 files (each small enough for a certificate), gzipped to ~64 KiB."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for number in range(64):
            info = tarfile.TarInfo(f"certs/part-{number}.pem")
            info.size = 1 << 20
            tar.addfile(info, io.BytesIO(bytes(info.size)))
    return gzip.compress(buffer.getvalue())


def test_a_certificate_tarball_bomb_is_refused(platform, engine, attacker):
    bomb = tar_bomb()
    assert len(bomb) < 1 << 20
    before = state_of(platform, engine)

    result = ssh_with_stdin(attacker, quoted("certs:add", OWN_APP), bomb)

    assert_refused(result, "the certificate tarball holds more than 4 MiB: a certificate and its key are a few KiB")
    assert state_of(platform, engine) == before
    assert not (platform.root / OWN_APP / "tls").exists()


@pytest.mark.parametrize("domain", ["-newkey", "--config=/etc/passwd", "a.test/cn=evil", "a.test,ip:127.0.0.1"])
def test_a_certificate_name_is_a_domain_and_never_an_option(platform, engine, attacker, domain):
    before = state_of(platform, engine)

    result = attacker.ssh(quoted("certs:generate", OWN_APP, "--", domain))

    assert_refused(result, f"invalid domain {domain!r}")
    assert state_of(platform, engine) == before


def test_a_certificate_on_stdin_is_read_only_up_to_its_bound(platform, engine, attacker):
    before = state_of(platform, engine)

    result = ssh_with_stdin(attacker, quoted("certs:add", OWN_APP, "-", "-"), b"A" * (8 << 20))

    assert_refused(result, "CERT_FILE is larger than 1 MiB: a key or certificate is a few KiB")
    assert state_of(platform, engine) == before


@pytest.mark.parametrize("image", ["x/../../containers/{web}", "minidokku/stack:latest?force=1", "-x", "X"])
def test_git_from_image_takes_only_an_image_reference(platform, engine, ssh_client, image):
    """An admin's command, but the image goes into the Engine API's URLs: `..` would reach
    another endpoint with the victim's container."""
    image = image.replace("{web}", victim_web_container(platform, engine))
    before = state_of(platform, engine)

    result = ssh_client.ssh(quoted("git:from-image", VICTIM, "--", image))

    assert_refused(result, f"invalid image {image[:80]!r}")
    assert state_of(platform, engine) == before
