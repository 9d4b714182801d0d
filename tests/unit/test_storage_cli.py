"""storage:* on the command line: Dokku 0.38's shapes, messages and flags (`--chown false`: no
helper container, which the unit tests' fake scheduler has no image for)."""

import json

import test_reports

dokku = test_reports.dokku  # the CLI on a root with the app catmeow


def test_ensure_directory_says_what_dokku_says(dokku):
    code, output = dokku("storage:ensure-directory", "--chown", "false", "cat-data")
    assert (code, output) == (0, "\n".join([
        " !     Deprecated: please use 'storage:create' instead of 'storage:ensure-directory'",
        "-----> Ensuring ROOT/.storage-data/cat-data exists",
        "       Created ROOT/.storage-data/cat-data",
        "-----> Storage entry cat-data created",
        "       Directory ready for mounting",
    ]) + "\n")  # fmt: skip


def test_info_and_list_entries_in_text_and_json(dokku):
    dokku("storage:create", "cat-data", "--chown", "false", "--reclaim-policy", "Delete")
    assert dokku("storage:info", "cat-data") == (0, "\n".join([
        "-----> Storage entry cat-data",
        "       Scheduler:        docker-local",
        "       Host path:        ROOT/.storage-data/cat-data",
        "       Chown:            false",
        "       Reclaim policy:   Delete",
    ]) + "\n")  # fmt: skip
    code, output = dokku("storage:list-entries", "--format", "json")
    assert json.loads(output) == [
        {"name": "cat-data", "scheduler": "docker-local", "host_path": "ROOT/.storage-data/cat-data",
         "chown": "false", "reclaim_policy": "Delete", "schema_version": 1}
    ]  # fmt: skip
    assert dokku("storage:list-entries") == (
        0,
        "-----> Storage entries:\n       cat-data\tdocker-local\tROOT/.storage-data/cat-data\n",
    )
    assert dokku("storage:info", "cat-data", "--format", "yaml") == (1, " !     Invalid --format value specified\n")


def test_list_report_and_unmount_of_an_app(dokku):
    dokku("storage:create", "cat-data", "--chown", "false")
    assert dokku("storage:mount", "catmeow", "cat-data", "--container-dir", "/app/storage", "--read-only") == (0, (
        "-----> Storage entry cat-data mounted at /app/storage on catmeow\n"
        "       It applies from the next deploy or `dokku ps:restart catmeow`\n"
    ))  # fmt: skip
    assert dokku("--quiet", "storage:list", "catmeow") == (0, "ROOT/.storage-data/cat-data:/app/storage:ro\n")
    code, output = dokku("storage:list", "catmeow", "--format", "json")
    assert json.loads(output) == [
        {"entry_name": "cat-data", "host_path": "ROOT/.storage-data/cat-data", "container_path": "/app/storage",
         "readonly": True}
    ]  # fmt: skip
    assert dokku("storage:report", "catmeow", "--storage-run-mounts") == (
        0, "-v ROOT/.storage-data/cat-data:/app/storage:ro\n"
    )  # fmt: skip
    assert dokku("storage:report", "catmeow", "--storage-attachment.1.process-type") == (0, "_default_\n")
    assert dokku("storage:unmount", "catmeow", "cat-data")[0] == 0
    assert dokku("--quiet", "storage:list", "catmeow") == (0, "")


def test_destroy_asks_unless_forced(dokku):
    dokku("storage:create", "cat-data", "--chown", "false")
    code, output = dokku("storage:destroy", "cat-data")
    assert code == 1 and "not on a terminal: confirm with `dokku storage:destroy cat-data --force`" in output
    assert dokku("--force", "storage:destroy", "cat-data") == (0, "-----> Storage entry cat-data destroyed\n")
    assert dokku("storage:info", "cat-data") == (1, ' !     storage entry "cat-data" does not exist\n')
