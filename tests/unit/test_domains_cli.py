"""domains:* through the command line, without Docker: apps never deployed are not rerouted, and
for apps with a release, proxy.reroute is replaced by a recorder."""

import pytest
from click.testing import CliRunner

from minidokku.access import rules
from minidokku.cli import cli
from minidokku.context import Context
from minidokku.errors import ValidationError
from minidokku.records import releases
from minidokku.records.releases import Release
from minidokku.routing import proxy
from minidokku.state import Store


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.setattr(Context, "engine", property(lambda ctx: pytest.fail("the Docker engine was asked")))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def rerouted(monkeypatch) -> list[str]:
    """The apps proxy.reroute was called for, in order."""
    calls: list[str] = []
    monkeypatch.setattr(proxy, "reroute", lambda ctx, app: calls.append(app))
    return calls


def deployed(tmp_path, app: str) -> None:
    """Gives the app a release, as a deploy would."""
    release = Release(
        number=1, sha="a" * 40, image_id="sha256:one", processes={"web": "run"}, description="", created=0
    )
    releases.save(Store(tmp_path), app, release)


def report_lines(output: str) -> list[str]:
    return [" ".join(line.split()) for line in output.splitlines()]


def test_add_prints_dokku_style_lines_and_skips_a_domain_already_there(dokku):
    dokku("apps:create", "catmeow")
    result = dokku("domains:add", "catmeow", "cat.io", "WWW.cat.io")
    assert result.exit_code == 0
    assert result.output == "-----> Added cat.io to catmeow\n-----> Added www.cat.io to catmeow\n"
    result = dokku("domains:add", "catmeow", "cat.io", "api.cat.io")
    assert result.output == "-----> Skipping: cat.io already added to catmeow\n-----> Added api.cat.io to catmeow\n"
    assert "Domains app vhosts: cat.io www.cat.io api.cat.io" in report_lines(dokku("domains:report", "catmeow").output)


def test_set_remove_and_clear_an_apps_domains(dokku, tmp_path):
    dokku("apps:create", "catmeow")
    dokku("domains:set-global", "example.com")
    assert dokku("domains:set", "catmeow", "cat.io", "*.cat.io").output == "-----> Set cat.io *.cat.io for catmeow\n"
    assert (tmp_path / "catmeow" / "VHOST").read_text() == "cat.io\n*.cat.io\n"
    result = dokku("domains:remove", "catmeow", "*.cat.io", "dog.io", "catmeow.example.com")
    assert result.output.splitlines() == [
        "-----> Removed *.cat.io from catmeow",
        "-----> Skipping: dog.io is not a domain of catmeow",
        "-----> Skipping: catmeow.example.com is catmeow's default (from the global domains); "
        "domains:disable takes it away",
    ]
    assert dokku("domains:clear", "catmeow").output == "-----> Cleared domains in catmeow\n"
    assert "Domains app vhosts: catmeow.example.com" in report_lines(dokku("domains:report", "catmeow").output)


def test_a_bad_domain_is_refused_and_nothing_is_written(dokku, tmp_path):
    dokku("apps:create", "catmeow")
    result = dokku("domains:add", "catmeow", "ok.io", "foo.*.com")
    assert result.exit_code == 1
    assert "invalid domain 'foo.*.com'" in result.output
    assert not (tmp_path / "catmeow" / "VHOST").exists()


def test_a_missing_app_is_named_before_its_domains_are_looked_at(dokku):
    result = dokku("domains:add", "ghost", "bad domain")
    assert result.exit_code == 20
    assert result.output.strip() == "!     App ghost does not exist"


def test_a_domain_of_another_app_is_refused_naming_it(dokku):
    dokku("apps:create", "catmeow")
    dokku("apps:create", "dogwoof")
    dokku("domains:set-global", "example.com")
    result = dokku("domains:set", "dogwoof", "catmeow.example.com")
    assert result.exit_code == 1
    assert result.output.strip() == "!     catmeow.example.com is already a domain of app catmeow"
    dokku("domains:add", "catmeow", "cat.io")
    result = dokku("domains:add", "dogwoof", "cat.io")
    assert result.exit_code == 1
    assert result.output.strip() == "!     cat.io is already a domain of app catmeow"
    assert dokku("domains:set", "dogwoof", "catmeow.example.com").exit_code == 0  # catmeow answers at cat.io only


def test_disable_then_enable_and_report_says_so(dokku):
    dokku("apps:create", "catmeow")
    dokku("domains:set-global", "example.com")
    assert dokku("domains:disable", "catmeow").output == "-----> App virtual host support disabled\n"
    assert dokku("domains:disable", "catmeow").output == (
        "-----> Domains (VHOST) support is already disabled for app (catmeow)\n"
    )
    lines = report_lines(dokku("domains:report", "catmeow").output)
    assert "Domains app enabled: false" in lines
    assert "Domains app vhosts: catmeow.example.com" in lines  # kept for domains:enable
    assert dokku("domains:enable", "catmeow").output == "-----> App virtual host support enabled\n"
    assert "Domains app enabled: true" in report_lines(dokku("domains:report", "catmeow").output)


def test_adding_a_domain_to_a_disabled_app_enables_it(dokku):
    dokku("apps:create", "catmeow")
    dokku("domains:disable", "catmeow")
    result = dokku("domains:add", "catmeow", "cat.io")
    assert result.output == "-----> Added cat.io to catmeow\n-----> App virtual host support enabled\n"
    assert "Domains app enabled: true" in report_lines(dokku("domains:report", "catmeow").output)


def test_global_commands_print_dokku_style_lines(dokku):
    assert dokku("domains:set-global", "Example.com", "example.org").output == "-----> Set example.com example.org\n"
    assert dokku("domains:add-global", "example.org", "example.net").output == (
        "-----> Skipping example.org: already added\n-----> Added example.net\n"
    )
    assert dokku("domains:remove-global", "example.com", "nope.io").output == (
        "-----> Removed example.com\n-----> Skipping nope.io: not a global domain\n"
    )
    assert dokku("domains:clear-global").output == "-----> Cleared global domains\n"
    assert report_lines(dokku("domains:report", "--global").output) == [
        "=====> global domains information",
        "Domains global enabled: false",
        "Domains global vhosts:",
    ]


def test_a_wildcard_global_domain_is_refused(dokku):
    result = dokku("domains:set-global", "*.example.com")
    assert result.exit_code == 1
    assert "no wildcard" in result.output


def test_report_without_an_app_shows_every_app_with_the_globals(dokku):
    dokku("apps:create", "catmeow")
    dokku("apps:create", "dogwoof")
    dokku("domains:set-global", "example.com")
    dokku("domains:add", "dogwoof", "dog.io")
    assert report_lines(dokku("domains:report").output) == [
        "=====> catmeow domains information",
        "Domains app enabled: true",
        "Domains app vhosts: catmeow.example.com",
        "Domains app url: http://catmeow.example.com",
        "Domains global enabled: true",
        "Domains global vhosts: example.com",
        "=====> dogwoof domains information",
        "Domains app enabled: true",
        "Domains app vhosts: dog.io",
        "Domains app url: http://dog.io",
        "Domains global enabled: true",
        "Domains global vhosts: example.com",
    ]


def test_report_without_apps_says_so_as_dokku_and_global_shows_the_globals(dokku):
    dokku("domains:set-global", "example.com")
    result = dokku("domains:report")
    assert (result.exit_code, result.output) == (0, " !     You haven't deployed any applications yet\n")
    assert report_lines(dokku("domains:report", "--global").output) == [
        "=====> global domains information",
        "Domains global enabled: true",
        "Domains global vhosts: example.com",
    ]


def test_report_of_an_app_and_global_at_once_is_the_global_report_as_in_dokku(dokku):
    dokku("apps:create", "catmeow")
    result = dokku("domains:report", "--global", "catmeow")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "=====> global domains information"


def test_report_values_line_up(dokku):
    dokku("apps:create", "catmeow")
    dokku("domains:set-global", "example.com")
    lines = dokku("domains:report", "catmeow").output.splitlines()[1:]
    assert len({line.rindex(line.split()[-1]) for line in lines}) == 1


# -- rerouting -----------------------------------------------------------------------------
def test_an_app_never_deployed_is_not_rerouted(dokku, rerouted):
    dokku("apps:create", "catmeow")
    dokku("domains:add", "catmeow", "cat.io")
    dokku("domains:disable", "catmeow")
    dokku("domains:set-global", "example.com")
    assert rerouted == []


def test_app_changes_reroute_a_deployed_app(dokku, rerouted, tmp_path):
    dokku("apps:create", "catmeow")
    deployed(tmp_path, "catmeow")
    for command in (
        ["domains:add", "catmeow", "cat.io"],
        ["domains:set", "catmeow", "cat.io"],
        ["domains:remove", "catmeow", "cat.io"],
        ["domains:clear", "catmeow"],
        ["domains:disable", "catmeow"],
        ["domains:enable", "catmeow"],
    ):
        assert dokku(*command).exit_code == 0
    assert rerouted == ["catmeow"] * 6


def test_a_refused_change_does_not_reroute(dokku, rerouted, tmp_path):
    dokku("apps:create", "catmeow")
    deployed(tmp_path, "catmeow")
    assert dokku("domains:add", "catmeow", "bad domain").exit_code == 1
    assert rerouted == []


def test_global_changes_reroute_the_deployed_apps_answering_at_default_names(dokku, rerouted, tmp_path):
    for app in ("catmeow", "dogwoof", "ownnames", "disabled", "undeployed"):
        dokku("apps:create", app)
        if app != "undeployed":
            deployed(tmp_path, app)
    dokku("domains:add", "ownnames", "own.io")
    dokku("domains:disable", "disabled")
    rerouted.clear()
    for command in (
        ["domains:set-global", "example.com"],
        ["domains:add-global", "example.org"],
        ["domains:remove-global", "example.org"],
        ["domains:clear-global"],
    ):
        assert dokku(*command).exit_code == 0
    assert rerouted == ["catmeow", "dogwoof"] * 4


def test_a_global_change_skips_a_locked_app_and_says_so(dokku, rerouted, tmp_path):
    dokku("apps:create", "catmeow")
    dokku("apps:create", "dogwoof")
    deployed(tmp_path, "catmeow")
    deployed(tmp_path, "dogwoof")
    with Store(tmp_path).lock("catmeow"):
        result = dokku("domains:set-global", "example.com")
    assert result.exit_code == 0
    assert "catmeow is locked by another command" in result.output
    assert rerouted == ["dogwoof"]


def test_a_global_change_goes_on_past_an_app_whose_site_is_refused(dokku, tmp_path, monkeypatch):
    for app in ("catmeow", "dogwoof"):
        dokku("apps:create", app)
        deployed(tmp_path, app)
    rerouted = []

    def reroute(ctx, app):
        if app == "catmeow":
            raise ValidationError("nginx.conf.template line 3: 'include /etc/shadow' is refused")
        rerouted.append(app)

    monkeypatch.setattr(proxy, "reroute", reroute)
    result = dokku("domains:set-global", "example.com")
    assert result.exit_code == 0
    assert "catmeow keeps its previous site: nginx.conf.template line 3" in result.output
    assert rerouted == ["dogwoof"]


def test_an_app_change_fails_while_the_app_is_locked(dokku, tmp_path):
    dokku("apps:create", "catmeow")
    with Store(tmp_path).lock("catmeow"):
        result = dokku("domains:add", "catmeow", "cat.io")
    assert result.exit_code == 1
    assert "catmeow is locked" in result.output
    assert not (tmp_path / "catmeow" / "VHOST").exists()


def test_a_user_key_claims_only_names_nobody_else_has_and_an_admin_any_free_one(dokku, tmp_path, monkeypatch):
    dokku("apps:create", "victim")
    dokku("apps:create", "mine")
    dokku("domains:set-global", "example.com")
    store = Store(tmp_path)
    rules.set_role(store, "eve", rules.USER)
    rules.grant(store, "mine", "eve")

    monkeypatch.setenv("NAME", "eve")
    for change in ("domains:add", "domains:set"):
        result = dokku(change, "mine", "api.mine.example.com", "x.victim.example.com")
        assert result.exit_code == 1
        assert result.output.strip() == (
            "!     x.victim.example.com is under app victim's domain victim.example.com; "
            "a user key claims only names no other app has or covers"
        )
    assert not (tmp_path / "mine" / "VHOST").exists()
    assert dokku("domains:add", "mine", "api.mine.example.com").exit_code == 0

    monkeypatch.delenv("NAME")
    assert dokku("domains:add", "mine", "x.victim.example.com").exit_code == 0
