"""The installer's sample app (ops/sample.py) on a fake scheduler and proxy: a real `git push` into
the app's repo, whose pre-receive hook here only says it ran (the deploy it starts is
tests/e2e/test_sample_app.py's), deployed once per machine, with a domain that needs no DNS."""

import filecmp
import subprocess
from pathlib import Path

import pytest
from fakes import make_flow

from minidokku.build import gitrepo
from minidokku.errors import GitError
from minidokku.ops import app_lifecycle, sample
from minidokku.routing import domains, host_address

TESTS_CATMEOW = Path(__file__).parent.parent / "apps" / "catmeow"
ADDRESS = "203.0.113.7"
# the app's hook runs this instead of minidokku: it prints its arguments to the push and exits
HOOK_SAYS = ["sh", "-c", 'echo "hook ran: $*" >&2', "sh"]
HOOK_FAILS = ["sh", "-c", "echo 'the build failed' >&2; exit 1", "sh"]


@pytest.fixture
def outward(monkeypatch):
    monkeypatch.setattr(host_address, "outward_ipv4", lambda: ADDRESS)


def flow_with_hook(tmp_path, monkeypatch, program):
    return make_flow(tmp_path / "root", monkeypatch, program=program)


def branch_file(flow, name: str) -> str:
    repo = flow.ctx.store.app_dir(sample.APP)
    return gitrepo.read_file(repo, gitrepo.branch_head(repo, "main"), name)


def test_the_sample_is_the_tests_catmeow_one_copy():
    assert sample.source().resolve() == TESTS_CATMEOW.resolve()
    assert sorted(path.name for path in sample.source().iterdir()) == ["Procfile", "catmeow.py", "requirements.txt"]


def test_the_sample_is_pushed_by_git_so_the_apps_hook_runs_and_it_is_recorded(tmp_path, monkeypatch, outward):
    flow = flow_with_hook(tmp_path, monkeypatch, HOOK_SAYS)
    outcome = sample.deploy(flow.ctx)
    assert outcome.url == "http://catmeow.example.test"
    assert "remote: hook ran: git-hook catmeow" in flow.ctx.out.lines
    for name in ("Procfile", "catmeow.py", "requirements.txt"):
        assert branch_file(flow, name) == (TESTS_CATMEOW / name).read_text()
    assert flow.ctx.store.read(None, sample.RECORD).startswith("deployed ")


def test_a_machine_without_a_global_domain_gets_one_of_sslip_io_and_says_so(tmp_path, monkeypatch, outward):
    flow = flow_with_hook(tmp_path, monkeypatch, HOOK_SAYS)
    sample.deploy(flow.ctx)
    assert domains.global_domains(flow.ctx.store) == [f"{ADDRESS}.sslip.io"]
    assert domains.app_domains(flow.ctx.store, sample.APP) == [f"catmeow.{ADDRESS}.sslip.io"]
    assert f"-----> Set the global domain to {ADDRESS}.sslip.io" in flow.ctx.out.lines


def test_a_global_domain_set_before_is_kept(tmp_path, monkeypatch, outward):
    flow = flow_with_hook(tmp_path, monkeypatch, HOOK_SAYS)
    domains.set_global(flow.ctx.store, ["example.com"])
    sample.deploy(flow.ctx)
    assert domains.app_domains(flow.ctx.store, sample.APP) == ["catmeow.example.com"]
    assert "       The global domain is example.com: the sample answers at catmeow.example.com" in flow.ctx.out.lines


def test_the_sample_is_never_deployed_twice_even_once_destroyed(tmp_path, monkeypatch, outward):
    flow = flow_with_hook(tmp_path, monkeypatch, HOOK_SAYS)
    sample.deploy(flow.ctx)
    head = gitrepo.branch_head(flow.ctx.store.app_dir(sample.APP), "main")
    again = sample.deploy(flow.ctx)
    assert again.url is None and again.said.startswith("The sample is never deployed twice (SAMPLE: deployed ")
    assert gitrepo.branch_head(flow.ctx.store.app_dir(sample.APP), "main") == head
    app_lifecycle.destroy(flow.ctx, sample.APP)
    assert sample.deploy(flow.ctx).url is None
    assert not flow.ctx.store.app_exists(sample.APP)


def test_a_machine_with_apps_gets_no_sample_now_or_later(tmp_path, monkeypatch, outward):
    flow = flow_with_hook(tmp_path, monkeypatch, HOOK_SAYS)
    flow.create_app("shop")
    outcome = sample.deploy(flow.ctx)
    assert outcome == sample.Outcome(said="The sample app catmeow not deployed: this machine has apps already (shop)")
    app_lifecycle.destroy(flow.ctx, "shop")
    assert sample.deploy(flow.ctx).url is None
    assert flow.ctx.store.list_apps() == [] and domains.global_domains(flow.ctx.store) == []


def test_a_failed_push_fails_in_one_error_and_the_next_run_tries_again(tmp_path, monkeypatch, outward):
    flow = flow_with_hook(tmp_path, monkeypatch, HOOK_FAILS)
    with pytest.raises(GitError, match="git push to .*/catmeow failed"):
        sample.deploy(flow.ctx)
    assert "remote: the build failed" in flow.ctx.out.lines
    assert gitrepo.branch_head(flow.ctx.store.app_dir(sample.APP), "main") is None  # the hook refused it
    assert flow.ctx.store.read(None, sample.RECORD).startswith("pushing ")
    retried = make_flow(tmp_path / "root", monkeypatch, program=HOOK_SAYS)
    assert retried.ctx.store.list_apps() == [sample.APP]
    assert sample.deploy(retried.ctx).url == "http://catmeow.example.test"
    assert "remote: hook ran: git-hook catmeow" in retried.ctx.out.lines


def test_a_sample_destroyed_after_its_push_failed_is_not_made_again(tmp_path, monkeypatch, outward):
    flow = flow_with_hook(tmp_path, monkeypatch, HOOK_FAILS)
    with pytest.raises(GitError):
        sample.deploy(flow.ctx)
    app_lifecycle.destroy(flow.ctx, sample.APP)
    assert sample.deploy(flow.ctx).said.startswith("The sample is never deployed twice (SAMPLE: pushing ")
    assert flow.ctx.store.list_apps() == []


def test_push_directory_pushes_the_files_as_one_commit_on_the_branch(tmp_path):
    repo = tmp_path / "repo.git"
    gitrepo.init_bare(repo)
    lines: list[str] = []
    gitrepo.push_directory(TESTS_CATMEOW, repo, "trunk", "first", lines.append)
    head = gitrepo.branch_head(repo, "trunk")
    log = subprocess.run(["git", "--git-dir", str(repo), "log", "--format=%s", "trunk"], capture_output=True, text=True)
    assert log.stdout == "first\n"
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "--quiet", "--branch", "trunk", str(repo), str(checkout)], check=True)
    assert not filecmp.dircmp(TESTS_CATMEOW, checkout, ignore=[".git"]).diff_files
    assert head and any("trunk" in line for line in lines)


def test_the_outward_address_is_an_ipv4_address():
    address = host_address.outward_ipv4()
    assert address.count(".") == 3 and all(part.isdigit() for part in address.split("."))


def test_what_the_push_prints_reaches_root_s_terminal_without_control_characters(tmp_path, monkeypatch, outward):
    # the dokku user's repo and hooks write these lines: an OSC 52 (the clipboard), a title, a colour
    hook = ["sh", "-c", r"printf 'a\033]52;c;Y2F0\007b\033[31mc\tt\302\233d\n' >&2", "sh"]
    flow = flow_with_hook(tmp_path, monkeypatch, hook)
    sample.deploy(flow.ctx)
    assert "remote: a]52;c;Y2F0b[31mc\ttd" in flow.ctx.out.lines
    assert not any(character in line for line in flow.ctx.out.lines for character in ("\x1b", "\x07", "\x9b", "\r"))


def test_a_private_address_is_said_to_be_reached_from_its_own_network_only(tmp_path, monkeypatch):
    monkeypatch.setattr(host_address, "outward_ipv4", lambda: "10.0.0.5")
    flow = flow_with_hook(tmp_path, monkeypatch, HOOK_SAYS)
    sample.deploy(flow.ctx)
    assert domains.global_domains(flow.ctx.store) == ["10.0.0.5.sslip.io"]
    assert "       10.0.0.5 is not a public address: those names are reached from its own network only" in (
        flow.ctx.out.lines
    )
    assert "       Your own domain instead: dokku domains:set-global example.com" in flow.ctx.out.lines
