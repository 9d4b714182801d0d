"""Processes on the real engine behind a real nginx: scale, checks, release tasks, releases and
rollback, stop/start, locks. Apps are pushed over git's local transport (same hook as ssh)."""

import json
import threading
import time

from helpers import APPS, git, make_git_repo, wait_until_serving

from minidokku.runtime import labels
from minidokku.runtime.docker_scheduler import PROCESS_ROLE

HOST = "procs.example.test"


def deploy_procs(platform, tmp_path, app="procs"):
    repo = make_git_repo(tmp_path / app, APPS / "procs")
    pushed = platform.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    return repo, pushed


def containers(engine, platform, app="procs"):
    namespace = platform.settings()["NAMESPACE"]
    return engine.list_containers({labels.APP: namespace + app, labels.ROLE: PROCESS_ROLE})


def test_web_and_worker_run_with_their_labels_and_the_release_task_runs_once(platform, engine, tmp_path):
    _repo, pushed = deploy_procs(platform, tmp_path)

    output = pushed.stderr
    assert output.count("release task ran as release.1") == 1, output
    assert "Checking web.1: health page" in output
    assert "postdeploy ran" in output
    wait_until_serving(platform, HOST, "hello from web.1")
    assert platform.get(HOST, "/predeploy") == (200, "baked-in\n"), "predeploy changes are committed to the image"
    found = {c["Labels"][labels.DYNO]: c for c in containers(engine, platform)}
    assert set(found) == {"web.1", "worker.1"}, "app.json formation runs one worker"
    assert all(c["State"] == "running" for c in found.values())
    assert found["worker.1"]["Labels"][labels.RELEASE] == "v1"
    logs = platform.dokku("logs", "procs", "-n", "5").stdout
    assert "app[worker.1]: worker tick from worker.1" in logs

    restarted = platform.dokku("ps:restart", "procs")
    assert "release task ran" not in restarted.stdout, "a restart is not a new release"
    configured = platform.dokku("config:set", "procs", "GREETING=hi")
    assert configured.stdout.count("release task ran as release.1 with GREETING=hi") == 1
    wait_until_serving(platform, HOST, "hi from web.1")


def test_two_web_containers_both_get_traffic(platform, engine, tmp_path):
    deploy_procs(platform, tmp_path)

    platform.dokku("ps:scale", "procs", "web=2", "worker=0")

    answers = set()
    deadline = time.monotonic() + 10
    while answers != {"hello from web.1", "hello from web.2"} and time.monotonic() < deadline:
        answers.add(platform.get(HOST)[1])
    assert answers == {"hello from web.1", "hello from web.2"}
    serving = {c["Labels"][labels.DYNO] for c in containers(engine, platform) if ".retiring-" not in c["Names"][0]}
    assert serving == {"web.1", "web.2"}, "worker=0 leaves no worker but the retiring one"
    shown = platform.dokku("ps:scale", "procs").stdout
    assert "web:  2" in shown and "worker: 0" in shown  # Dokku's lines


def test_failing_healthcheck_leaves_the_old_release_serving(platform, engine, tmp_path):
    deploy_procs(platform, tmp_path)
    wait_until_serving(platform, HOST, "hello from web.1")

    failed = platform.dokku("config:set", "procs", "HEALTH_STATUS=500", "GREETING=broken", check=False)

    assert failed.returncode != 0
    assert "failed the check `health page`" in failed.stdout + failed.stderr
    assert "HTTP 500" in failed.stdout + failed.stderr
    assert platform.get(HOST) == (200, "hello from web.1")
    assert "HEALTH_STATUS" not in platform.dokku("config:show", "procs").stdout, "a failed change is not kept"
    assert "v2" not in platform.dokku("releases", "procs").stdout
    names = [c["Names"][0] for c in containers(engine, platform)]
    assert not [n for n in names if ".upcoming-" in n], names


def test_rollback_serves_the_old_code_and_config_without_a_build(platform, tmp_path):
    repo, _ = deploy_procs(platform, tmp_path)
    wait_until_serving(platform, HOST, "hello from web.1")
    (repo / "app.py").write_text((repo / "app.py").read_text().replace("'hello'", "'version two'"))
    git(repo, "commit", "-qam", "v2")
    assert platform.push(repo, "procs").returncode == 0
    platform.dokku("config:set", "procs", "EXTRA=1")
    wait_until_serving(platform, HOST, "version two from web.1")

    started = time.monotonic()
    rolled = platform.dokku("releases:rollback", "procs", "v1")
    seconds = time.monotonic() - started

    wait_until_serving(platform, HOST, "hello from web.1")
    assert "Building" not in rolled.stdout
    assert "Rollback done: v4 (Rollback to v1)" in rolled.stdout
    assert "EXTRA" not in platform.dokku("config:show", "procs").stdout, "v1's config comes back"
    listing = platform.dokku("releases", "procs").stdout
    assert listing.index("v4") < listing.index("v1") and "Rollback to v1" in listing
    print(f"\nrollback to v1 took {seconds:.2f} s")


def test_stop_answers_503_and_start_brings_the_app_back(platform, tmp_path):
    deploy_procs(platform, tmp_path)
    wait_until_serving(platform, HOST, "hello from web.1")

    workers = platform.nginx_workers()
    platform.dokku("ps:stop", "procs")
    platform.wait_for_reload(workers)
    assert platform.get(HOST)[0] == 503
    assert platform.dokku("ps:report", "procs", "--running").stdout == "false\n"
    assert "Restored" not in platform.dokku("ps:restore").stdout, "a stopped app stays stopped"

    platform.dokku("ps:start", "procs")
    wait_until_serving(platform, HOST, "hello from web.1")


def test_old_containers_retire_after_the_grace_period(platform, engine, tmp_path):
    deploy_procs(platform, tmp_path)
    platform.dokku("checks:set", "procs", "wait-to-retire", "1")
    before = {c["Id"] for c in containers(engine, platform)}

    platform.dokku("ps:restart", "procs")

    retiring = [c for c in containers(engine, platform) if c["Id"] in before]
    assert retiring and all(".retiring-" in c["Names"][0] for c in retiring)
    deadline = time.monotonic() + 30
    while {c["Id"] for c in containers(engine, platform)} & before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not {c["Id"] for c in containers(engine, platform)} & before


def test_apps_lock_holds_deploys_off_until_unlock(platform, tmp_path):
    repo, _ = deploy_procs(platform, tmp_path)
    platform.dokku("apps:lock", "procs")
    git(repo, "commit", "-q", "--allow-empty", "-m", "while locked")

    refused = platform.push(repo, "procs")

    assert refused.returncode != 0
    assert "procs is locked by apps:lock" in refused.stderr
    assert platform.dokku("apps:locked", "procs").returncode == 0
    platform.dokku("apps:unlock", "procs")
    assert platform.push(repo, "procs").returncode == 0


def test_deploys_of_one_app_never_interleave_and_different_apps_run_in_parallel(platform, tmp_path):
    deploy_procs(platform, tmp_path, "procs")
    deploy_procs(platform, tmp_path, "other")
    results = {}

    def restart(name, key):
        results[key] = platform.dokku("ps:restart", name, check=False)

    threads = [threading.Thread(target=restart, args=args) for args in (("procs", 1), ("procs", 2), ("other", 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    same_app = [results[1], results[2]]
    assert sorted(r.returncode for r in same_app) == [0, 1], [r.stderr for r in same_app]
    loser = next(r for r in same_app if r.returncode)
    assert "procs is locked by another deploy or command" in loser.stderr
    assert results[3].returncode == 0, results[3].stderr


def test_restart_policy_and_checks_settings_apply_on_the_next_deploy(platform, engine, tmp_path):
    deploy_procs(platform, tmp_path)
    platform.dokku("ps:set", "procs", "restart-policy", "always")
    platform.dokku("checks:skip", "procs", "web")

    skipped = platform.dokku("config:set", "procs", "HEALTH_STATUS=500")

    assert "Not checking web.1 (checks skipped)" in skipped.stdout
    serving = [c for c in containers(engine, platform) if ".retiring-" not in c["Names"][0]]
    policies = {engine.inspect_container(c["Id"])["HostConfig"]["RestartPolicy"]["Name"] for c in serving}
    assert policies == {"always"}
    assert platform.dokku("ps:report", "procs", "--ps-computed-restart-policy").stdout == "always\n"
    report = platform.dokku("checks:report", "procs").stdout
    assert "Checks skipped list:" in report and "web" in report

    platform.dokku("checks:disable", "procs")
    before = {c["Id"] for c in containers(engine, platform) if ".retiring-" not in c["Names"][0]}
    platform.dokku("ps:restart", "procs")
    assert not before & {c["Id"] for c in containers(engine, platform)}, "without zero-downtime the old ones go first"
    wrong = platform.dokku("ps:set", "procs", "restart-policy", "sometimes", check=False)
    assert wrong.returncode != 0 and "restart" in wrong.stderr


def test_log_size_and_global_restart_policy_apply_on_the_next_deploy_and_inspect_masks_the_config(
    platform, engine, tmp_path
):
    deploy_procs(platform, tmp_path)
    platform.dokku("config:set", "procs", "SECRET_KEY=hunter2")
    platform.dokku("logs:set", "procs", "max-size", "20m")
    platform.dokku("ps:set", "--global", "restart-policy", "unless-stopped")

    platform.dokku("ps:restart", "procs")

    serving = [c for c in containers(engine, platform) if ".retiring-" not in c["Names"][0]]
    hosts = [engine.inspect_container(c["Id"])["HostConfig"] for c in serving]
    assert {h["LogConfig"]["Config"]["max-size"] for h in hosts} == {"20m"}
    assert {h["RestartPolicy"]["Name"] for h in hosts} == {"unless-stopped"}
    inspected = json.loads(platform.dokku("ps:inspect", "procs").stdout)
    assert {c["Id"] for c in inspected} == {c["Id"] for c in serving}
    env = [entry for c in inspected for entry in c["Config"]["Env"]]
    assert "SECRET_KEY=XXXXXX" in env and not any("hunter2" in entry for entry in env)
    platform.dokku("ps:set", "--global", "restart-policy")


def test_logs_failed_shows_what_the_failed_deploys_containers_printed(platform, tmp_path):
    deploy_procs(platform, tmp_path)
    nothing = platform.dokku("logs:failed", "procs")
    assert (nothing.stdout, nothing.stderr) == ("", " !     No failed containers found\n")

    failed = platform.dokku("config:set", "procs", "HEALTH_STATUS=500", check=False)

    assert failed.returncode != 0
    wait_until_serving(platform, HOST, "hello from web.1")  # the old release serves on
    assert "worker tick from worker.1" in platform.dokku("logs:failed", "procs").stdout


def test_restarting_one_process_type_replaces_only_its_containers_and_web_serves_on(platform, engine, tmp_path):
    deploy_procs(platform, tmp_path)
    before = {
        c["Labels"][labels.DYNO]: c["Id"] for c in containers(engine, platform) if "retiring" not in c["Names"][0]
    }

    restarted = platform.dokku("ps:restart", "procs", "worker")

    assert restarted.returncode == 0, restarted.stderr
    after = {
        c["Labels"][labels.DYNO]: c["Id"]
        for c in containers(engine, platform)
        if "retiring" not in c["Names"][0] and c["State"] == "running"
    }
    assert set(after) == {"web.1", "worker.1"}
    assert after["web.1"] == before["web.1"], "the web container is not touched"
    assert after["worker.1"] != before["worker.1"], "the worker is a new container"
    wait_until_serving(platform, HOST, "hello from web.1")
    unknown = platform.dokku("ps:restart", "procs", "clock", check=False)
    assert unknown.returncode == 1 and unknown.stderr.startswith(" !     "), unknown.stderr
