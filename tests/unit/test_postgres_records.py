"""The PostgreSQL plugin's bookkeeping without Docker: names, link variables, DSNs, the link
files, the bundled plugin's hooks, and the commands' refusals that need no engine."""

import pytest
from click.testing import CliRunner

from minidokku.cli import cli
from minidokku.context import Context
from minidokku.errors import NotFound, ValidationError
from minidokku.output import RecordingOutput
from minidokku.plugins import registry
from minidokku.plugins.postgres import hooks, records
from minidokku.plugins.postgres.records import Link
from minidokku.settings import Settings


@pytest.fixture
def ctx(tmp_path, monkeypatch) -> Context:
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    (tmp_path / "SETTINGS").write_text("export NAMESPACE='t-'\n")
    return Context(Settings.load(), RecordingOutput())


def make_service(ctx: Context, name: str, password: str = "s3cret") -> None:
    ctx.store.write(None, f"{records.folder(name)}/IMAGE", "minidokku/postgres:15\n")
    ctx.store.write(None, f"{records.folder(name)}/PASSWORD", password + "\n", mode=0o600)


@pytest.mark.parametrize("name", ["catdb", "cat-db-2", "a", "x" * 48])
def test_good_service_names_pass(name):
    assert records.validate_name(name) == name


@pytest.mark.parametrize("name", ["", "-db", "Cat", "cat_db", "cat.db", "../etc", "a b", "x" * 49, "db;rm"])
def test_bad_service_names_are_refused(name):
    with pytest.raises(ValidationError, match="invalid service name"):
        records.validate_name(name)


def test_the_first_link_is_database_url_then_colors_in_order():
    assert records.next_variable({}) == "DATABASE_URL"
    assert records.next_variable({"DATABASE_URL": "x"}) == "DOKKU_POSTGRES_AQUA_URL"
    assert records.next_variable({"DATABASE_URL": "x", "DOKKU_POSTGRES_AQUA_URL": "y"}) == "DOKKU_POSTGRES_BLACK_URL"


def test_an_app_with_every_color_taken_gets_a_clear_error():
    taken = {"DATABASE_URL": "x", **{f"DOKKU_POSTGRES_{color}_URL": "y" for color in records.COLORS}}
    with pytest.raises(ValidationError, match="17 database links already"):
        records.next_variable(taken)


def test_the_dsn_names_the_alias_and_a_database_without_dashes(ctx):
    make_service(ctx, "cat-db")
    assert records.dsn(ctx.store, "cat-db") == "postgres://postgres:s3cret@dokku-postgres-cat-db:5432/cat_db"
    assert records.dsn(ctx.store, "cat-db", shown_password="****") == (
        "postgres://postgres:****@dokku-postgres-cat-db:5432/cat_db"
    )


def test_the_password_file_is_private_and_marks_the_service_as_existing(ctx):
    assert not records.exists(ctx.store, "catdb") and records.names(ctx.store) == []
    make_service(ctx, "catdb")
    path = ctx.store.path(None, f"{records.folder('catdb')}/PASSWORD")
    assert path.stat().st_mode & 0o777 == 0o600
    assert records.exists(ctx.store, "catdb") and records.names(ctx.store) == ["catdb"]
    with pytest.raises(NotFound, match="Postgres service other does not exist"):
        records.require(ctx.store, "other")


def test_docker_names_carry_the_namespace(ctx):
    assert records.container_name(ctx, "catdb") == "t-dokku.postgres.catdb"
    assert records.volume_name(ctx, "catdb") == "t-dokku.postgres.catdb"
    assert records.network_name(ctx) == "t-minidokku-services"


def test_links_are_kept_per_service_and_found_per_app(ctx):
    make_service(ctx, "one")
    make_service(ctx, "two")
    records.write_links(ctx.store, "one", [Link("catmeow", "DATABASE_URL"), Link("dogwoof", "DATABASE_URL")])
    records.write_links(ctx.store, "two", [Link("catmeow", "DOKKU_POSTGRES_AQUA_URL")])
    assert records.link_of(ctx.store, "two", "catmeow") == Link("catmeow", "DOKKU_POSTGRES_AQUA_URL")
    assert records.link_of(ctx.store, "two", "dogwoof") is None
    assert records.services_linked_to(ctx.store, "catmeow") == ["one", "two"]
    assert records.services_linked_to(ctx.store, "dogwoof") == ["one"]


def test_each_linked_app_has_its_own_link_network_and_an_unlinked_app_none(ctx):
    make_service(ctx, "one")
    records.write_links(ctx.store, "one", [Link("catmeow", "DATABASE_URL")])
    assert records.link_network_name(ctx, "catmeow") == "t-dokku.postgres.links.catmeow"
    assert records.link_network_name(ctx, "dogwoof") != records.link_network_name(ctx, "catmeow")
    assert hooks.network_option(ctx, "dogwoof", "sha256:1") is None


def test_a_destroyed_app_is_forgotten_by_every_service(ctx):
    make_service(ctx, "one")
    make_service(ctx, "two")
    records.write_links(ctx.store, "one", [Link("catmeow", "DATABASE_URL"), Link("dogwoof", "DATABASE_URL")])
    records.write_links(ctx.store, "two", [Link("catmeow", "DOKKU_POSTGRES_AQUA_URL")])
    assert records.forget_app(ctx.store, "catmeow") == ["one", "two"]
    assert records.links(ctx.store, "one") == [Link("dogwoof", "DATABASE_URL")]
    assert records.links(ctx.store, "two") == []


def test_the_bundled_plugin_is_listed_with_its_hooks(ctx):
    plugin = registry.find(ctx.store, "postgres")
    assert plugin.bundled and set(plugin.hooks) == {
        "docker-args-deploy", "docker-args-run", "post-delete",
        "post-app-rename-setup", "post-app-rename", "post-app-clone-setup",
    }  # fmt: skip


@pytest.fixture
def dokku(ctx):
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args))


def test_commands_on_a_missing_service_are_one_clear_line(dokku):
    for words in (["postgres:info", "ghost"], ["postgres:destroy", "ghost", "--force"], ["postgres:restart", "ghost"]):
        result = dokku(*words)
        assert result.exit_code == 1 and result.output == " !     Postgres service ghost does not exist\n", words


def test_a_bad_service_name_is_refused_before_anything_is_made(dokku, ctx):
    result = dokku("postgres:create", "Bad_Name")
    assert result.exit_code == 1 and "invalid service name 'Bad_Name'" in result.output
    assert records.names(ctx.store) == []


def test_a_linked_service_is_not_destroyed_and_no_question_is_asked(dokku, ctx):
    make_service(ctx, "catdb")
    records.write_links(ctx.store, "catdb", [Link("catmeow", "DATABASE_URL")])
    result = dokku("postgres:destroy", "catdb")
    assert result.exit_code == 1
    assert result.output == " !     Cannot delete linked service catdb: unlink it from catmeow first\n"
    assert records.exists(ctx.store, "catdb")


def test_a_disabled_postgres_plugin_refuses_its_commands(dokku, ctx):
    make_service(ctx, "catdb")
    registry.set_enabled(ctx.store, "postgres", False)
    result = dokku("postgres:list")
    assert result.exit_code == 1
    assert result.output == " !     the postgres plugin is disabled; `dokku plugin:enable postgres` turns it on\n"
