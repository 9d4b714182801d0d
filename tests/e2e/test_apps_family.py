"""The apps family over ssh as a Dokku user's script drives it: apps:exists, apps:list without
apps, apps:rename of a deployed app (it answers at the new domain and not the old, a rollback
still finds the earlier image, a push to the new name deploys), apps:clone (a second copy that
answers)."""

from helpers import APPS, commit_all, make_git_repo, wait_until_serving

OLD, NEW, COPY = "hello-old", "hello-new", "hello-copy"


def _host(app: str) -> str:
    return f"{app}.example.test"


def _say(repo, words: str) -> None:
    dockerfile = repo / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace('echo "', f'echo "{words} '))
    commit_all(repo, words)


def test_apps_list_without_apps_warns_as_dokku_and_exists_answers_by_exit_code(platform, ssh_client):
    listed = ssh_client.ssh("apps:list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "=====> My Apps\n"
    assert listed.stderr == " !     You haven't deployed any applications yet\n"

    platform.dokku("apps:create", "there")
    for app, code in [("there", 0), ("nowhere", 1)]:
        answered = ssh_client.ssh("apps:exists", app)
        assert (answered.returncode, answered.stdout, answered.stderr) == (code, "", "")


def test_a_renamed_app_answers_at_its_new_domain_rolls_back_and_deploys_and_its_clone_answers(
    platform, ssh_client, tmp_path
):
    repo = make_git_repo(tmp_path / OLD, APPS / "dockerfile-hello")
    _say(repo, "one")
    assert ssh_client.push(repo, OLD).returncode == 0
    _say(repo, "two")
    assert ssh_client.push(repo, OLD).returncode == 0
    wait_until_serving(platform, _host(OLD), "two one", prefix=True, timeout=15)

    renamed = ssh_client.ssh("apps:rename", OLD, NEW)

    assert renamed.returncode == 0, renamed.stderr
    assert f"-----> Renaming {OLD} to {NEW}" in renamed.stdout
    wait_until_serving(platform, _host(NEW), "two one", prefix=True, timeout=15)
    assert not platform.get(_host(OLD))[1].startswith("two")
    assert ssh_client.ssh("apps:exists", OLD).returncode == 1
    assert ssh_client.ssh("apps:list").stdout.splitlines()[1:] == [NEW]

    rolled_back = ssh_client.ssh("releases:rollback", NEW)
    assert rolled_back.returncode == 0, rolled_back.stderr
    wait_until_serving(platform, _host(NEW), "one unset", prefix=True, timeout=15)

    _say(repo, "three")
    pushed = ssh_client.push(repo, NEW)
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, _host(NEW), "three two one", prefix=True, timeout=15)

    cloned = ssh_client.ssh("apps:clone", NEW, COPY)
    assert cloned.returncode == 0, cloned.stderr
    wait_until_serving(platform, _host(COPY), "three two one", prefix=True, timeout=15)
    wait_until_serving(platform, _host(NEW), "three two one", prefix=True)
    again = ssh_client.ssh("apps:clone", "--ignore-existing", NEW, COPY)
    assert (again.returncode, again.stderr) == (0, " !     Name is already taken\n")
