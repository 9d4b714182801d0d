"""The whole path, as a user meets it: git push over ssh, build, run, nginx, curl."""

import time

from helpers import APPS, git, make_git_repo, wait_until_serving

HOST = "catmeow.example.test"
MEOW = "Cat dreams meow.."


def test_push_over_ssh_deploys_catmeow_and_nginx_serves_it(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / "catmeow", APPS / "catmeow")
    started = time.monotonic()
    pushed = ssh_client.push(repo, "catmeow")
    assert pushed.returncode == 0, pushed.stderr
    for line in [
        "remote: -----> Building catmeow ...",
        "remote: -----> Python app detected",
        "remote: -----> Installing dependencies with pip",
        "remote: -----> Discovering process types",
        "remote:        Procfile declares types -> web",
        "remote: -----> Releasing catmeow ...",
        "remote: -----> Deploying catmeow ...",
        "remote: =====> Application deployed:",
        f"remote:        http://{HOST}:{platform.http_port}",
    ]:
        assert line in pushed.stderr, f"{line!r} missing from the push output:\n{pushed.stderr}"
    wait_until_serving(platform, HOST, MEOW)
    first_deploy = time.monotonic() - started

    (repo / "catmeow.py").write_text((repo / "catmeow.py").read_text() + "# a code-only change\n")
    git(repo, "commit", "-qam", "code only")
    started = time.monotonic()
    assert ssh_client.push(repo, "catmeow").returncode == 0
    wait_until_serving(platform, HOST, MEOW)
    redeploy = time.monotonic() - started
    print(f"\nfirst deploy {first_deploy:.1f} s, code-only redeploy {redeploy:.1f} s")


def test_failed_build_is_rejected_and_old_release_keeps_serving(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / "catmeow", APPS / "catmeow")
    assert ssh_client.push(repo, "catmeow").returncode == 0
    wait_until_serving(platform, HOST, MEOW)
    deployed = git(repo, "rev-parse", "HEAD").stdout.strip()
    (repo / "requirements.txt").write_text("flask\nthis is not a requirement ===\n")
    git(repo, "commit", "-qam", "broken requirements")

    pushed = ssh_client.push(repo, "catmeow")

    assert pushed.returncode != 0
    assert "pre-receive hook declined" in pushed.stderr
    assert "Invalid requirement" in pushed.stderr or "ERROR" in pushed.stderr
    assert platform.get(HOST) == (200, MEOW)
    server_head = git(platform.root / "catmeow", "rev-parse", "refs/heads/main").stdout.strip()
    assert server_head == deployed, "the branch must not move when the build fails"


def test_config_set_over_ssh_redeploys_with_the_new_value(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / "envecho", APPS / "envecho")
    assert ssh_client.push(repo, "envecho").returncode == 0
    wait_until_serving(platform, "envecho.example.test", "<unset>", path="/MEOW")

    result = ssh_client.ssh("config:set", "envecho", "'MEOW=cats \"purr\" = loud'")

    assert result.returncode == 0, result.stderr
    wait_until_serving(platform, "envecho.example.test", 'cats "purr" = loud', path="/MEOW")
    assert ssh_client.ssh("config:get", "envecho", "MEOW").stdout == 'cats "purr" = loud\n'
    trail = [line.split("\t")[1:] for line in ssh_client.ssh("events").stdout.splitlines()]
    assert ["tester", "push", "envecho", "ok", f"main {git(repo, 'rev-parse', 'HEAD').stdout[:7]}"] in trail
    assert ["tester", "config:set", "envecho", "ok", "MEOW"] in trail
    assert "purr" not in (platform.root / "EVENTS").read_text()


def test_a_key_reaches_minidokku_and_nothing_else(platform, ssh_client):
    listed = ssh_client.ssh("apps:list")
    assert listed.returncode == 0 and "=====> My Apps" in listed.stdout

    shell = ssh_client.ssh("bash")
    assert shell.returncode != 0
    assert "`bash` is not a dokku command." in shell.stderr

    escape = ssh_client.ssh("git-upload-pack", "'../../etc'")
    assert escape.returncode != 0 and "invalid app name" in escape.stderr

    injected = ssh_client.ssh("apps:create 'x; touch /tmp/minidokku-pwned'")
    assert injected.returncode != 0
    assert not (platform.root / "x").exists()


def test_apps_destroy_removes_containers_image_config_and_repo(platform, ssh_client, engine, tmp_path):
    repo = make_git_repo(tmp_path / "catmeow", APPS / "catmeow")
    assert ssh_client.push(repo, "catmeow").returncode == 0
    wait_until_serving(platform, HOST, MEOW)
    namespace = (platform.root / "SETTINGS").read_text().split("NAMESPACE='")[1].split("'")[0]

    platform.dokku("apps:destroy", "catmeow", "--force")

    assert engine.list_containers({"com.dokku.app-name": f"{namespace}catmeow"}) == []
    assert not engine.image_exists(f"dokku/{namespace}catmeow:latest")
    assert not (platform.root / "catmeow").exists()
    assert "catmeow" not in platform.dokku("apps:list").stdout
    deadline = time.monotonic() + 5
    while (platform.get(HOST)[0] != 404 or platform.nginx_reloading()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert platform.get(HOST)[0] == 404


def test_ps_rebuild_builds_the_last_pushed_commit_into_a_new_release(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / "catmeow", APPS / "catmeow")
    assert ssh_client.push(repo, "catmeow").returncode == 0
    pushed = git(repo, "rev-parse", "HEAD").stdout.strip()

    rebuilt = ssh_client.ssh("ps:rebuild", "catmeow")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "-----> Building catmeow ..." in rebuilt.stdout
    assert "=====> Application deployed:" in rebuilt.stdout
    release = (platform.root / "catmeow" / "releases" / "v2.json").read_text()
    assert pushed in release
    wait_until_serving(platform, HOST, MEOW)


def test_ps_rebuild_of_a_never_pushed_app_is_a_clear_error(platform):
    platform.dokku("apps:create", "empty")
    result = platform.dokku("ps:rebuild", "empty", check=False)
    assert result.returncode == 1
    assert "has no pushed main or master branch" in result.stderr


def test_run_over_ssh_passes_the_exit_code_and_releases_roll_back(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / "envecho", APPS / "envecho")
    assert ssh_client.push(repo, "envecho").returncode == 0
    assert ssh_client.ssh("config:set", "envecho", "MEOW=two").returncode == 0

    ran = ssh_client.ssh("run", "envecho", "'echo $MEOW from $DYNO; exit 3'")
    assert ran.returncode == 3, ran.stderr
    assert ran.stdout.startswith("two from run.")

    rolled = ssh_client.ssh("releases:rollback", "envecho")
    assert rolled.returncode == 0, rolled.stderr
    wait_until_serving(platform, "envecho.example.test", "<unset>", path="/MEOW")
    assert "v3" in ssh_client.ssh("releases", "envecho").stdout
