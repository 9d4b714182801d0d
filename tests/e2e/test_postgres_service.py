"""The bundled PostgreSQL service, end to end: a Python app (psycopg from PyPI) linked to a
service writes a row through DATABASE_URL, and the row outlives a redeploy, a dockerd restart and
a restart of the service; an export imported into a new service holds the same row; a second
link gets a DOKKU_POSTGRES_<COLOR>_URL; a linked service cannot be destroyed."""

import subprocess
import time

import pytest
from helpers import APPS, dokku_program, git, make_git_repo, restart_engine, wait_until_serving

from minidokku.engine.client import Engine

pytestmark = pytest.mark.serial  # restarts dockerd: every other test's containers stop
HOST = "pgrows.example.test"


def wait_for_rows(platform, expected: str, timeout: float = 30) -> None:
    wait_until_serving(platform, HOST, expected, path="/read", timeout=timeout)


def test_a_linked_database_keeps_its_rows_through_redeploys_and_a_docker_restart(platform, tmp_path):
    started = time.monotonic()
    created = platform.dokku("postgres:create", "catdb")
    print(f"\npostgres:create took {time.monotonic() - started:.2f} s (image already made or pulled)")
    assert created.stdout.endswith("=====> Postgres container created: catdb\n"), created.stdout
    repo = make_git_repo(tmp_path / "pgrows", APPS / "pgrows")
    assert platform.push(repo, "pgrows").returncode == 0

    linked = platform.dokku("postgres:link", "catdb", "pgrows")
    dsn = platform.dokku("postgres:info", "catdb", "--dsn").stdout.strip()
    password = dsn.split(":")[2].split("@")[0]
    assert password not in linked.stdout + linked.stderr
    assert password not in platform.dokku("postgres:info", "catdb").stdout
    assert platform.dokku("config:get", "pgrows", "DATABASE_URL").stdout.strip() == dsn
    assert dsn.startswith("postgres://postgres:") and dsn.endswith("@dokku-postgres-catdb:5432/catdb")
    wait_until_serving(platform, HOST, "first", path="/write/first", timeout=30)

    git(repo, "commit", "-q", "--allow-empty", "-m", "redeploy")
    assert platform.push(repo, "pgrows").returncode == 0
    wait_for_rows(platform, "first")

    engine = Engine()
    service = engine.inspect_container(platform.dokku("postgres:info", "catdb", "--id").stdout.strip())
    assert not service["HostConfig"]["PortBindings"], "the database port must not be published"
    restart_engine()
    platform.dokku("ps:restore")
    wait_for_rows(platform, "first", timeout=60)
    assert platform.dokku("postgres:restart", "catdb").stdout == "-----> Restarting postgres service catdb\n"
    wait_for_rows(platform, "first", timeout=30)
    assert "database system is ready to accept connections" in platform.dokku("postgres:logs", "catdb").stdout

    dump = tmp_path / "catdb.dump"
    with open(dump, "wb") as out:
        subprocess.run([dokku_program(), "postgres:export", "catdb"], env=platform.env, stdout=out, check=True)
    platform.dokku("postgres:create", "copy")
    with open(dump, "rb") as dump_file:
        subprocess.run([dokku_program(), "postgres:import", "copy"], env=platform.env, stdin=dump_file, check=True)
    query = platform.dokku("postgres:connect", "copy", input="SELECT value FROM rows;\n")
    assert [line.strip() for line in query.stdout.splitlines()][2:4] == ["first", "(1 row)"], query.stdout

    platform.dokku("postgres:link", "copy", "pgrows")
    config = platform.dokku("config:show", "pgrows").stdout
    assert "DOKKU_POSTGRES_AQUA_URL:" in config and "@dokku-postgres-copy:5432/copy" in config
    wait_for_rows(platform, "first")  # DATABASE_URL still names catdb

    refused = platform.dokku("postgres:destroy", "catdb", "--force", check=False)
    assert refused.returncode == 1
    assert "Cannot delete linked service catdb: unlink it from pgrows first" in refused.stderr
    assert platform.dokku("postgres:info", "catdb", "--status").stdout == "running\n"

    platform.dokku("postgres:unlink", "catdb", "pgrows")
    assert "DATABASE_URL" not in platform.dokku("config:show", "pgrows").stdout
    platform.dokku("postgres:destroy", "catdb", "--force")
    assert platform.dokku("postgres:list").stdout.splitlines()[1:] == ["copy"]
    assert not engine.volume_exists(f"{platform.settings()['NAMESPACE']}dokku.postgres.catdb")

    platform.dokku("apps:destroy", "pgrows", "--force")  # forgets its link: copy can go
    assert platform.dokku("postgres:info", "copy", "--links").stdout == "-\n"
