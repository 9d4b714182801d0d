"""The config family as Dokku has it: the formats (export, import, bundle), every command with
an APP or --global, and the flows on a fake scheduler: the global config reaches every container
of an app under the app's own values, import and clear make one release each."""

import io
import json
import subprocess
import tarfile

import pytest
from click.testing import CliRunner
from fakes import make_flow

from minidokku.access import rules
from minidokku.cli import cli
from minidokku.errors import ValidationError
from minidokku.ops import config, deploy, oneoff
from minidokku.records import envfile, releases
from minidokku.records.appjson import AppJson
from minidokku.runtime.terminal import Streams
from minidokku.state import Store

# Dokku's own test vector (plugins/config/environment_test.go)
DOKKU_ENV = {"BAR": "BAZ", "BAZ": "a\nb", "FOO": "b'ar "}
SECRET = "hunter2-not-to-be-shown"


# -- the formats --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("format_name", "expected"),
    [
        ("exports", "export BAR='BAZ'\nexport BAZ='a\nb'\nexport FOO='b'\\''ar '\n"),
        ("envfile", 'BAR="BAZ"\nBAZ="a\\nb"\nFOO="b\'ar "\n'),
        ("docker-args", "--env=BAR='BAZ' --env=BAZ='a\nb' --env=FOO='b'\\''ar '\n"),
        ("docker-args-keys", "--env=BAR --env=BAZ --env=FOO\n"),
        ("pack-keys", "--env BAR --env BAZ --env FOO\n"),
        ("shell", "BAR='BAZ' BAZ='a\nb' FOO='b'\\''ar ' "),
        ("pretty", "BAR:  BAZ\nBAZ:  a\nb\nFOO:  b'ar\n"),
        ("json", '{"BAR":"BAZ","BAZ":"a\\nb","FOO":"b\'ar "}\n'),
        (
            "json-list",
            '[{"name":"BAR","value":"BAZ"},{"name":"BAZ","value":"a\\nb"},{"name":"FOO","value":"b\'ar "}]\n',
        ),
    ],
)
def test_each_export_format_prints_as_dokku(format_name, expected):
    assert envfile.export(DOKKU_ENV, format_name) == expected


@pytest.mark.parametrize(("format_name", "expected"), [("exports", "\n"), ("json", "{}\n"), ("json-list", "null\n")])
def test_an_empty_config_exports_as_dokku(format_name, expected):
    assert envfile.export({}, format_name) == expected


def test_an_unknown_export_format_is_refused_by_name():
    with pytest.raises(ValidationError, match="Unknown export format: yaml"):
        envfile.export(DOKKU_ENV, "yaml")


def test_envfile_writes_whole_numbers_bare_and_escapes_what_a_double_quote_would_expand():
    env = {"N": "42", "LEADING_ZERO": "007", "M": 'a$b!c`d\\e"f\rg'}
    assert envfile.export(env, "envfile") == 'LEADING_ZERO="007"\nM="a\\$b\\!c\\`d\\\\e\\"f\\rg"\nN=42\n'


def test_json_escapes_as_go_does():
    assert envfile.export({"A": "<b>&é"}, "json") == '{"A":"\\u003cb\\u003e\\u0026é"}\n'


AWKWARD = {
    "SPACES": "a b  c ",
    "QUOTES": 'it\'s "quoted"',
    "NEWLINES": "line1\nline2\r\n\n",
    "DOLLARS": "$(touch pwned) ${HOME} $HOME `id` !x",
    "BACKSLASHES": "C:\\path\\ \\n \\'",
    "HASH": "a #not a comment",
    "EMPTY": "",
    "UNICODE": "héllo ✓ 日本",
}


@pytest.mark.parametrize("format_name", ["exports", "envfile"])
def test_what_export_prints_imports_back_exactly(format_name):
    assert envfile.parse(envfile.export(AWKWARD, format_name)) == AWKWARD


def test_shell_and_docker_args_words_give_the_values_back_to_a_shell(tmp_path):
    script = 'eval "set -- $1"; for word; do printf "%s\\0" "$word"; done'
    for format_name, prefix in (("shell", ""), ("docker-args", "--env=")):
        words = envfile.export(AWKWARD, format_name)
        result = subprocess.run(["bash", "-c", script, "bash", words], capture_output=True, check=True, cwd=tmp_path)
        expected = [f"{prefix}{key}={value}" for key, value in sorted(AWKWARD.items())]
        assert result.stdout.decode().split("\0")[:-1] == expected
        assert not (tmp_path / "pwned").exists()


def test_bundle_is_a_tar_of_one_private_file_per_key():
    with tarfile.open(fileobj=io.BytesIO(envfile.bundle(AWKWARD))) as archive:
        members = archive.getmembers()
        assert [member.name for member in members] == sorted(AWKWARD)
        assert {member.mode for member in members} == {0o600}
        assert all(member.isfile() for member in members)
        assert {m.name: archive.extractfile(m).read().decode() for m in members} == AWKWARD


# -- reading env files --------------------------------------------------------------------
def test_dotenv_files_are_read_as_godotenv_reads_them():
    text = (
        "# a comment\r\n"
        "export A=plain value  # a note\n"
        "B = 'single # kept'\n"
        'C="two\\nlines \\"quoted\\" \\$HOME"\n'
        "D=\n"
        "E='multi\nline'\n"
        "F='it'\\''s'\n"
        "G=#kept\n"
    )
    assert envfile.parse(text) == {
        "A": "plain value",
        "B": "single # kept",
        "C": 'two\nlines "quoted" $HOME',
        "D": "",
        "E": "multi\nline",
        "F": "it's",
        "G": "#kept",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"A=1\n{SECRET}\n", "line 2: expected KEY=VALUE"),
        (f"A=1\n\nB='{SECRET}\n", "line 3: a quote is never closed"),
        (f'B="{SECRET}', "line 1: a quote is never closed"),
        (f"B='{SECRET}' {SECRET}\n", "line 1: unexpected text after a quoted value"),
        (f"A-B={SECRET}\n", "line 1: invalid config key 'A-B'"),
        (f"postgres://u:{SECRET}@db/x?ssl=1\n", "line 1: invalid config key: use letters"),
        ("A='nul\0byte'\n", "the value of A holds a NUL byte"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line_and_never_a_value(text, message):
    with pytest.raises(ValidationError) as raised:
        envfile.parse(text)
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)


def test_a_pair_without_equals_is_refused_without_being_shown():
    with pytest.raises(ValidationError) as raised:
        envfile.parse_assignment(SECRET)
    assert "expected KEY=VALUE" in str(raised.value) and SECRET not in str(raised.value)


def test_encoded_values_are_decoded_byte_for_byte():
    assert envfile.parse_assignment("KEY=bGluZTEKbGluZSAy", encoded=True) == ("KEY", "line1\nline 2")


@pytest.mark.parametrize(("value", "message"), [("bm90 YmFzZTY0", "invalid base64 for key 'K'"), ("/w==", "not UTF-8")])
def test_bad_encoded_values_are_refused_without_being_shown(value, message):
    with pytest.raises(ValidationError) as raised:
        envfile.parse_assignment(f"K={value}", encoded=True)
    assert message in str(raised.value) and value not in str(raised.value)


def test_json_objects_of_strings_are_read():
    assert envfile.parse_json('{"A": "1", "B": "x\\ny"}') == {"A": "1", "B": "x\ny"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('["A"]', "expected a JSON object"),
        ('{"A": 1}', "the value of A is not a JSON string"),
        ('{"A-B": "x"}', "invalid config key 'A-B'"),
        ('{"A": "x"', "not JSON"),
    ],
)
def test_bad_json_is_refused(text, message):
    with pytest.raises(ValidationError, match=message):
        envfile.parse_json(text)


# -- the commands, without Docker ----------------------------------------------------------
@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    runner = CliRunner()

    def run(*args: str, input=None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    run("apps:create", "catmeow")
    return run


def test_global_config_lives_in_the_roots_env_file_readable_by_its_owner_only(dokku, tmp_path):
    assert dokku("config:set", "--global", "A=1", "B=two words").exit_code == 0
    assert Store(tmp_path).read_env(None) == {"A": "1", "B": "two words"}
    assert (tmp_path / "ENV").stat().st_mode & 0o077 == 0
    assert dokku("config:get", "--global", "B").output == "two words\n"
    assert dokku("config:keys", "--global").output == "A\nB\n"
    assert dokku("config:show", "--global").output == "=====> global env vars\nA:  1\nB:  two words\n"
    assert dokku("config:unset", "--global", "A").exit_code == 0
    assert dokku("config:export", "--global").output == "export B='two words'\n"
    assert dokku("config:clear", "--global").exit_code == 0
    assert Store(tmp_path).read_env(None) == {}
    assert Store(tmp_path).read_env("catmeow") == {}


def test_merged_is_the_global_config_under_the_apps_own(dokku):
    dokku("config:set", "--global", "SHARED=global", "ONLY_GLOBAL=g")
    dokku("config:set", "--no-restart", "catmeow", "SHARED=app")
    assert dokku("config:keys", "catmeow").output == "SHARED\n"
    assert dokku("config:keys", "catmeow", "--merged").output == "ONLY_GLOBAL\nSHARED\n"
    assert (
        dokku("config:show", "--merged", "catmeow").output
        == "=====> catmeow env vars\nONLY_GLOBAL:  g\nSHARED:       app\n"
    )
    exported = dokku("config:export", "--format", "json", "--merged", "catmeow").output
    assert json.loads(exported) == {"ONLY_GLOBAL": "g", "SHARED": "app"}
    assert dokku("config:get", "catmeow", "ONLY_GLOBAL").exit_code == 1  # get reads the app's own


def test_set_encoded_and_get_quoted(dokku):
    assert dokku("config:set", "--encoded", "--no-restart", "catmeow", "K=aXQncyBtZQo=").exit_code == 0
    assert dokku("config:get", "catmeow", "K").output == "it's me\n\n"
    assert dokku("config:get", "--quoted", "catmeow", "K").output == "'it'\\''s me\n'\n"


def test_show_shell_and_export_are_dokkus_deprecated_forms(dokku):
    dokku("config:set", "--no-restart", "catmeow", "A=x y", "B=2")
    shell = dokku("config:show", "--shell", "catmeow")
    assert shell.stdout == "A='x y' B='2'"
    assert "Deprecated: Use 'config:export --format shell' instead" in shell.stderr
    assert dokku("config:show", "--export", "catmeow").stdout == "export A='x y'\nexport B='2'\n"
    assert dokku("config:show", "--shell", "--export", "catmeow").exit_code == 1


def test_bundle_writes_the_tar_to_stdout(dokku):
    dokku("config:set", "--global", "G=1")
    dokku("config:set", "--no-restart", "catmeow", "A=x\ny")
    result = CliRunner().invoke(cli, ["config:bundle", "--merged", "catmeow"], catch_exceptions=False)
    with tarfile.open(fileobj=io.BytesIO(result.stdout_bytes)) as archive:
        assert {m.name: archive.extractfile(m).read() for m in archive.getmembers()} == {"A": b"x\ny", "G": b"1"}


def test_import_reads_an_env_file_or_json_from_stdin(dokku, tmp_path):
    dokku("config:set", "--no-restart", "catmeow", "KEPT=1")
    result = dokku("config:import", "--no-restart", "catmeow", "-", input=f"export A='{SECRET}'\nB=2\n")
    assert result.exit_code == 0
    assert "Reading config vars from stdin" in result.output and SECRET not in result.output
    assert Store(tmp_path).read_env("catmeow") == {"KEPT": "1", "A": SECRET, "B": "2"}
    replaced = dokku(
        "config:import", "--replace", "--format", "json", "--no-restart", "catmeow", "-", input='{"C": "3"}'
    )
    assert replaced.exit_code == 0
    assert Store(tmp_path).read_env("catmeow") == {"C": "3"}
    assert dokku("config:import", "--global", "-", input="G=1\n").exit_code == 0
    assert Store(tmp_path).read_env(None) == {"G": "1"}


def test_import_reads_a_file_on_the_host(dokku, tmp_path):
    env_file = tmp_path / "prod.env"
    env_file.write_text('A="x\\ny"\n')
    assert dokku("config:import", "--no-restart", "catmeow", str(env_file)).exit_code == 0
    assert Store(tmp_path).read_env("catmeow") == {"A": "x\ny"}


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["catmeow", "-"], "", "No config vars to set"),
        (["catmeow", "-"], f"A=1\n{SECRET}\n", "line 2: expected KEY=VALUE"),
        (["catmeow", "-"], "A=" + "x" * (1 << 20) + "\n", "FILE is larger than 1 MiB: a config is a few KiB"),
        (["catmeow", "-"], b"A=\xff\n", "FILE is not UTF-8 text"),
        (["--format", "yaml", "catmeow", "-"], "A: 1", "Unknown format: yaml"),
        (["catmeow"], "A=1", "expected one FILE, or - for stdin"),
    ],
)
def test_bad_imports_change_nothing_and_say_why_in_one_line(dokku, tmp_path, args, stdin, message):
    dokku("config:set", "--no-restart", "catmeow", "KEPT=1")
    result = CliRunner().invoke(cli, ["config:import", "--no-restart", *args], input=stdin)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f" !     {result.stderr.splitlines()[0][7:]}"]
    assert message in result.stderr and SECRET not in result.output
    assert Store(tmp_path).read_env("catmeow") == {"KEPT": "1"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["config:set", "--no-restart", "catmeow", "A=1", SECRET], "invalid env pair"),
        (["config:set", "--encoded", "--no-restart", "catmeow", "A=%%%"], "invalid base64 for key 'A'"),
        (["config:set", "--no-restart", "catmeow"], "At least one env pair must be given"),
        (["config:unset", "--no-restart", "catmeow"], "At least one key must be given"),
        (["config:keys"], "Please specify an app to run the command on"),
        (["config:keys", "--global", "catmeow"], "give an APP or --global, not both"),
        (["config:get", "catmeow"], "Expected: key"),
        (["config:export", "--format", "xml", "catmeow"], "Unknown export format: xml"),
    ],
)
def test_bad_arguments_change_nothing_and_say_why(dokku, tmp_path, args, message):
    dokku("config:set", "--no-restart", "catmeow", "KEPT=1")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert message in result.stderr and SECRET not in result.output
    assert Store(tmp_path).read_env("catmeow") == {"KEPT": "1"}


def test_the_audit_trail_names_global_changes_by_key_only(dokku, tmp_path):
    dokku("config:set", "--global", f"TOKEN={SECRET}")
    dokku("config:import", "--no-restart", "catmeow", "-", input=f"A={SECRET}\n")
    CliRunner().invoke(cli, ["config:set", "--global", "B=1", SECRET])
    trail = [line.split("\t")[2:] for line in (tmp_path / "EVENTS").read_text().splitlines()]
    assert ["config:set", "-", "ok", "--global TOKEN"] in trail
    assert ["config:import", "catmeow", "ok", "A"] in trail
    assert ["config:set", "-", "failed", "--global B"] in trail
    assert SECRET not in (tmp_path / "EVENTS").read_text()


# -- the flows on a fake scheduler ---------------------------------------------------------
APP = "cat"


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app(APP, {"GREETING": "hello"})
    flow.deploy(APP, flow.built("sha256:one", {"web": "serve", "worker": "work", "release": "migrate"}))
    flow.journal.clear()
    flow.scheduler.tasks.clear()
    return flow


def _release_names(flow) -> list[str]:
    return [release.name for release in releases.history(flow.ctx.store, APP)]


def test_import_makes_one_release_with_the_imported_vars(flow):
    config.import_vars(flow.ctx, APP, {"A": "1", "B": "2"})
    assert _release_names(flow) == ["v1", "v2"]
    assert releases.current(flow.ctx.store, APP).config == {
        "DOKKU_DEFAULT_CHECKS_WAIT": "0",
        "GREETING": "hello",
        "A": "1",
        "B": "2",
    }
    assert {c.release for c in flow.scheduler.containers(APP)} == {"v2"}


def test_import_with_replace_makes_the_imported_vars_the_whole_config(flow):
    config.import_vars(flow.ctx, APP, {"A": "1"}, replace=True)
    assert flow.ctx.store.read_env(APP) == {"A": "1"} == releases.current(flow.ctx.store, APP).config


def test_clear_makes_one_release_without_any_config(flow):
    config.clear(flow.ctx, APP)
    assert _release_names(flow) == ["v1", "v2"]
    assert releases.current(flow.ctx.store, APP).config == {} == flow.ctx.store.read_env(APP)


@pytest.mark.parametrize("change", ["import", "clear", "set", "unset"])
def test_no_restart_saves_the_config_and_deploys_nothing(flow, change):
    {
        "import": lambda: config.import_vars(flow.ctx, APP, {"A": "1"}, restart=False),
        "clear": lambda: config.clear(flow.ctx, APP, restart=False),
        "set": lambda: config.set_vars(flow.ctx, APP, ["A=1"], restart=False),
        "unset": lambda: config.unset_vars(flow.ctx, APP, ["GREETING"], restart=False),
    }[change]()
    assert _release_names(flow) == ["v1"]
    assert flow.journal == []
    assert flow.ctx.store.read_env(APP) != releases.current(flow.ctx.store, APP).config


def test_a_change_that_changes_nothing_deploys_nothing(flow):
    config.unset_vars(flow.ctx, APP, ["NOT_SET"])
    assert "Skipping NOT_SET, it is not set in the environment" in flow.output
    assert _release_names(flow) == ["v1"] and flow.journal == []


def test_a_no_restart_change_is_deployed_by_the_next_change_even_when_that_sets_the_same_value(flow):
    config.set_vars(flow.ctx, APP, ["A=1"], restart=False)
    config.set_vars(flow.ctx, APP, ["A=1"])
    assert releases.current(flow.ctx.store, APP).config["A"] == "1"
    assert _release_names(flow) == ["v1", "v2"]


def test_changing_the_global_config_redeploys_no_app(flow):
    config.set_vars(flow.ctx, None, ["SHARED=1"])
    config.import_vars(flow.ctx, None, {"OTHER": "2"})
    config.unset_vars(flow.ctx, None, ["OTHER"])
    assert flow.journal == [] and _release_names(flow) == ["v1"]
    assert flow.ctx.store.read_env(None) == {"SHARED": "1"}


def test_the_global_config_reaches_every_container_under_the_apps_own_values(flow):
    config.set_vars(flow.ctx, None, ["GREETING=global", "SHARED=everyone"])
    config.set_vars(flow.ctx, APP, ["COLOR=blue"])  # a new release, with the global config under it
    expected = {"DOKKU_DEFAULT_CHECKS_WAIT": "0", "GREETING": "hello", "SHARED": "everyone", "COLOR": "blue"}
    new = [c for c in flow.scheduler.containers(APP) if c.release == "v2"]
    assert [flow.scheduler.configs[c.id] for c in new] == [expected, expected]
    release_task = flow.scheduler.tasks[-1]
    assert release_task[1][-1] == "migrate" and release_task[2] == dict(expected, DYNO="release.1")
    # the app's records keep the app's own config: the global one stays in ROOT/ENV
    assert releases.current(flow.ctx.store, APP).config == flow.ctx.store.read_env(APP)
    assert "SHARED" not in flow.ctx.store.read_env(APP)


def test_the_global_config_reaches_predeploy_and_one_off_runs(flow):
    config.set_vars(flow.ctx, None, ["SHARED=everyone", "GREETING=global"])
    flow.deploy(APP, flow.built("sha256:two", app_json=AppJson(predeploy="prepare")))
    predeploy_env = flow.scheduler.tasks[0][2]
    assert (predeploy_env["SHARED"], predeploy_env["GREETING"]) == ("everyone", "hello")
    assert oneoff.run(flow.ctx, APP, ["env"], tty=False, streams=Streams(io.BytesIO(), io.BytesIO(), io.BytesIO())) == 0
    one_off = flow.scheduler.one_offs[-1]
    assert (one_off.env["SHARED"], one_off.env["GREETING"]) == ("everyone", "hello")


def test_a_restart_picks_up_the_global_config_as_dokku_does(flow):
    config.set_vars(flow.ctx, None, ["SHARED=later"])
    with deploy.exclusive(flow.ctx, APP):
        deploy.restart(flow.ctx, APP)
    assert {flow.scheduler.configs[c.id]["SHARED"] for c in flow.scheduler.running(APP)} == {"later"}
    assert _release_names(flow) == ["v1"]


def test_a_user_key_granted_the_app_may_not_reach_the_global_config_by_naming_it(dokku, tmp_path, monkeypatch):
    dokku("config:set", "--global", f"TOKEN={SECRET}")
    store = Store(tmp_path)
    rules.set_role(store, "alice", rules.USER)
    rules.grant(store, "catmeow", "alice")
    monkeypatch.setenv("NAME", "alice")
    assert dokku("config:keys", "catmeow").exit_code == 0  # its own app: yes
    for words in (
        ["config:get", "--global", "catmeow"],
        ["config:set", "--global", "catmeow=1"],
        ["config:show", "--global"],
    ):
        refused = CliRunner().invoke(cli, words)
        assert refused.exit_code == 1
        assert f"{words[0]} is for admin keys only; alice is a user key" in refused.stderr
        assert SECRET not in refused.output
    assert store.read_env(None) == {"TOKEN": SECRET}
    trail = [line.split("\t")[1:] for line in (tmp_path / "EVENTS").read_text().splitlines()]
    assert ["alice", "config:set", "-", "denied", ""] in trail
