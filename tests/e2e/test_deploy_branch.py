"""git:set deploy-branch over ssh: a push of that branch deploys, a push of main then lands
without deploying (Dokku's warning), and git:report shows the deployed branch's head."""

from helpers import APPS, git, make_git_repo, wait_until_serving

HOST = "branchy.example.test"
WARNING = "WARNING: deploy did not complete, you must push to production."


def test_a_push_deploys_the_set_deploy_branch_and_not_main(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / "branchy", APPS / "envecho")
    assert ssh_client.ssh("apps:create", "branchy").returncode == 0
    chosen = ssh_client.ssh("git:set", "branchy", "deploy-branch", "production")
    assert (chosen.returncode, chosen.stdout) == (0, "-----> Setting deploy-branch to production\n"), chosen.stderr

    on_main = ssh_client.push(repo, "branchy", "main")
    assert on_main.returncode == 0, on_main.stderr
    assert WARNING in on_main.stderr and "Deploying" not in on_main.stderr
    assert ssh_client.ssh("ps:report", "branchy", "--deployed").stdout == "false\n"

    git(repo, "branch", "production")
    on_production = ssh_client.push(repo, "branchy", "production")
    assert on_production.returncode == 0, on_production.stderr
    wait_until_serving(platform, HOST, "<unset>", path="/MEOW")
    deployed = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert ssh_client.ssh("git:report", "branchy", "--git-sha").stdout == deployed + "\n"

    (repo / "later.txt").write_text("not deployed\n")
    git(repo, "add", "later.txt")
    git(repo, "commit", "-qm", "on main only")
    again = ssh_client.push(repo, "branchy", "main")
    assert again.returncode == 0 and WARNING in again.stderr, again.stderr
    landed = git(platform.root / "branchy", "rev-parse", "refs/heads/main").stdout.strip()
    assert landed == git(repo, "rev-parse", "HEAD").stdout.strip() != deployed
    assert ssh_client.ssh("git:report", "branchy", "--git-sha").stdout == deployed + "\n"
    assert ssh_client.ssh("ps:report", "branchy", "--deployed").stdout == "true\n"
