"""cron:list|report|set|suspend|resume on the command line, on a release as a deploy records it:
Dokku 0.38's columns, json keys, report flags and messages."""

import json

import test_reports

from minidokku.ops import cron as cron_ops
from minidokku.records import cron, releases
from minidokku.records.releases import Release
from minidokku.state import Store, file_lock

dokku = test_reports.dokku  # the CLI on a root with the app catmeow
DAILY = {"command": "node index.js", "schedule": "@daily"}
MINUTELY = {"command": "true", "schedule": "* * * * *", "concurrency_policy": "replace"}


def release_with(root, *entries):
    app_json = {"cron": cron.entries(list(entries))}
    releases.save(
        Store(root), "catmeow", Release(1, "a" * 40, "sha256:one", {"web": "serve"}, "", 0.0, app_json=app_json)
    )
    return [cron.task_id("catmeow", e["command"], e["schedule"]) for e in entries]


def test_list_shows_dokkus_columns_and_json_keys(dokku, tmp_path):
    assert dokku("cron:list", "catmeow") == (0, "ID  Schedule  Concurrency  Maintenance  Command\n")
    daily, minutely = release_with(tmp_path, DAILY, MINUTELY)
    width = len(daily)
    assert dokku("cron:list", "catmeow") == (0, "\n".join([
        f"{'ID':<{width}}  Schedule   Concurrency  Maintenance  Command",
        f"{daily}  @daily     forbid       false        node index.js",
        f"{minutely:<{width}}  * * * * *  replace      false        true",
    ]) + "\n")  # fmt: skip
    [first, _] = json.loads(dokku("cron:list", "catmeow", "--format", "json")[1])
    assert first == {
        "id": daily, "app": "catmeow", "command": "node index.js", "schedule": "@daily", "concurrency_policy": "forbid",
        "app-in-maintenance": False, "task-in-maintenance": False, "maintenance": False, "last_run": None,
    }  # fmt: skip
    assert dokku("cron:list", "catmeow", "--format", "yaml") == (
        1,
        " !     Invalid format specified, supported formats: json, stdout\n",
    )


def test_suspend_resume_and_maintenance_show_in_list_and_report(dokku, tmp_path):
    [daily] = release_with(tmp_path, DAILY)
    assert dokku("cron:suspend", "catmeow", daily) == (0, f"-----> Setting maintenance.{daily} to true\n")
    assert "true (task)" in dokku("cron:list", "catmeow")[1]
    assert dokku("cron:report", "catmeow", f"--cron-maintenance-{daily}") == (0, "true\n")
    assert dokku("cron:resume", "catmeow", daily) == (0, f"-----> Unsetting maintenance.{daily}\n")
    assert dokku("cron:set", "catmeow", "maintenance", "true") == (0, "-----> Setting maintenance to true\n")
    assert "true (app)" in dokku("cron:list", "catmeow")[1]
    assert dokku("cron:set", "catmeow", f"maintenance.{daily}", "true")[0] == 0
    assert dokku("cron:report", "catmeow", "--cron-computed-maintenance") == (0, "true\n")
    assert dokku("cron:suspend", "catmeow", "nope") == (
        1,
        " !     No matching Cron ID found. Please specify a Cron ID from the output of 'dokku cron:list catmeow'\n",
    )


def test_report_shows_dokkus_flags_and_global_properties(dokku, tmp_path):
    release_with(tmp_path, DAILY, MINUTELY)
    assert dokku("cron:set", "--global", "mailto", "ops@example.com")[0] == 0
    code, shown = dokku("cron:report", "catmeow")
    assert code == 0 and shown.splitlines() == [
        "=====> catmeow cron information",
        "       Cron computed mailfrom:        ",
        "       Cron computed mailto:          ops@example.com",
        "       Cron computed maintenance:     false",
        "       Cron global mailfrom:          ",
        "       Cron global mailto:            ops@example.com",
        "       Cron global maintenance:       ",
        "       Cron maintenance:              ",
        "       Cron task count:               2",
    ]
    keys = json.loads(dokku("cron:report", "catmeow", "--format", "json")[1])
    assert (keys["task-count"], keys["cron-task-count"], keys["global-mailto"]) == ("2", "2", "ops@example.com")
    assert dokku("cron:set", "catmeow", "mailto", "a@b.c") == (
        1,
        " !     Property cannot be specified on a per-app basis\n",
    )
    assert dokku("cron:set", "--global", "maintenance.x", "true") == (
        1,
        " !     Task maintenance properties cannot be set globally\n",
    )


def test_a_daemon_finding_another_one_running_ends_with_status_0(dokku, tmp_path):
    with file_lock(tmp_path / cron_ops.DAEMON_LOCK):  # as a running daemon holds it
        code, output = dokku("cron:daemon")
    assert code == 0 and "a cron daemon runs already" in output


def test_cron_set_of_an_unknown_task_id_says_so_as_dokku(dokku, tmp_path):
    release_with(tmp_path, DAILY)
    assert dokku("cron:set", "catmeow", "maintenance.badid", "true") == (
        1,
        " !     Invalid task maintenance property, no matching task ID found: maintenance.badid\n",
    )
    assert dokku("cron:set", "catmeow", "maintenance.", "true")[1].endswith("missing ID\n")
