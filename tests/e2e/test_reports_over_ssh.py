"""Reports as a Dokku user's script reads them, over ssh on a deployed app: one value with its
flag, every property as json."""

import json

from helpers import APPS, make_git_repo, wait_until_serving

APP = "reported"
HOST = f"{APP}.example.test"


def test_a_script_reads_one_value_or_the_json_of_a_deployed_app(platform, ssh_client, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "procs")
    pushed = ssh_client.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, HOST, "hello from web.1")

    vhosts = ssh_client.ssh("domains:report", APP, "--domains-app-vhosts")
    assert (vhosts.returncode, vhosts.stdout, vhosts.stderr) == (0, f"{HOST}\n", "")

    ps = ssh_client.ssh("ps:report", APP, "--format", "json")
    assert ps.returncode == 0 and ps.stderr == "", ps.stderr
    report = json.loads(ps.stdout)
    assert (report["deployed"], report["running"], report["restore"]) == ("true", "true", "true")
    statuses = {key: value for key, value in report.items() if key.startswith("status-")}
    assert report["processes"] == str(len(statuses)) and "status-web.1" in statuses
    assert statuses["status-web.1"].startswith("running (CID: ")
    assert report["release"] == report["ps-release"] and report["release"].startswith("v1 (")

    running = ssh_client.ssh("ps:report", APP, "--running")
    assert (running.returncode, running.stdout) == (0, "true\n")
    unknown = ssh_client.ssh("ps:report", APP, "--nope")
    assert unknown.returncode == 1 and unknown.stderr.startswith(" !     Invalid flag passed, valid flags: --deployed")
