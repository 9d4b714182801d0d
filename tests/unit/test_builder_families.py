"""builder:set|report, builder-dockerfile:set|report, builder-herokuish:set|report and
app-json:set|report on the command line: Dokku's `APP|--global KEY [VALUE]` and its report rows
(computed, global, the app's own), with its messages."""

import json

import pytest
import test_reports

dokku = test_reports.dokku  # the CLI on a root with the app catmeow

FAMILIES = [
    # (family, key, a value, the default, its label, json keeps the whole flag names too)
    ("builder-dockerfile", "dockerfile-path", ".dokku/Dockerfile", "Dockerfile", "Builder dockerfile", False),
    ("app-json", "appjson-path", "ops/app.json", "app.json", "App-json", True),
    ("builder-herokuish", "allowed", "false", "true", "Builder herokuish", False),
    ("builder", "selected", "dockerfile", "", "Builder", True),
    ("builder", "build-dir", "services/web", "", "Builder", True),
]


@pytest.mark.parametrize(("family", "key", "value", "default", "label", "legacy"), FAMILIES)
def test_a_property_set_per_app_then_globally_shows_in_the_report(dokku, family, key, value, default, label, legacy):
    flag = f"--{family}-{key}"
    computed, global_ = f"--{family}-computed-{key}", f"--{family}-global-{key}"
    assert dokku(f"{family}:report", "catmeow", computed) == (0, f"{default}\n")
    assert dokku(f"{family}:set", "catmeow", key, value) == (0, f"-----> Setting {key} to {value}\n")
    assert dokku(f"{family}:report", "catmeow", flag) == (0, f"{value}\n")
    assert dokku(f"{family}:report", "catmeow", computed) == (0, f"{value}\n")
    width = (
        max(len(f"{label} computed {key}:"), len("Builder computed build dir:")) + 1
        if family == "builder"
        else (len(f"{label} computed {key}:") + 1)
    )
    words = key.replace("-", " ")
    code, block = dokku(f"{family}:report", "catmeow")
    lines = block.splitlines()
    assert code == 0 and lines[0] == f"=====> catmeow {family} information"
    assert [line for line in lines if f" {words}:" in line] == [
        f"       {label + ' computed ' + words + ':':<{width}}{value}",
        f"       {label + ' global ' + words + ':':<{width}}",
        f"       {label + ' ' + words + ':':<{width}}{value}",
    ]

    assert dokku(f"{family}:set", "catmeow", key) == (0, f"-----> Unsetting {key}\n")
    assert dokku(f"{family}:set", "--global", key, value) == (0, f"-----> Setting {key} to {value}\n")
    assert dokku(f"{family}:report", "catmeow", computed) == (0, f"{value}\n")  # the global value, for the app
    assert dokku(f"{family}:report", "--global", global_) == (0, f"{value}\n")
    shown = json.loads(dokku(f"{family}:report", "catmeow", "--format", "json")[1])
    expected = {key: "", f"global-{key}": value, f"computed-{key}": value}
    if legacy:
        expected.update({f"{family}-{name}": shown_value for name, shown_value in expected.items()})
    assert {name: shown[name] for name in expected} == expected
    assert dokku(f"{family}:set", "--global", key) == (0, f"-----> Unsetting {key}\n")
    assert dokku(f"{family}:report", "catmeow", computed) == (0, f"{default}\n")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["builder-dockerfile:set", "catmeow", "dockerfile-path", "../../etc/passwd"],
         "dockerfile-path must be a relative path inside the repository"),
        (["builder-dockerfile:set", "catmeow", "dockerfile-path", "/etc/passwd"],
         "dockerfile-path must be a relative path inside the repository"),
        (["app-json:set", "--global", "appjson-path", "a/../../b"], "appjson-path must be a relative path"),
        (["app-json:set", "catmeow", "appjson-path", "a\nb"], "appjson-path must be a relative path"),
        (["builder-herokuish:set", "catmeow", "allowed", "maybe"], "allowed is true or false, not 'maybe'"),
        (["builder:set", "catmeow", "selected", "pack"], "unknown builder 'pack'"),
        (["builder:set", "catmeow", "build-dir", "../other"], "build-dir must be a relative path"),
        (["builder:set", "catmeow", "skip-cleanup", "true"],
         "Invalid property specified, valid properties include: build-dir, selected"),
        (["builder-dockerfile:set", "catmeow", "nosuch", "x"],
         "Invalid key specified, valid keys include: dockerfile-path"),
        (["app-json:set", "catmeow", "nosuch"], "Invalid property specified, valid properties include: appjson-path"),
        (["app-json:set", "catmeow"], "No property specified"),
        (["builder-dockerfile:set"], "Please specify an app to run the command on"),
        (["app-json:set", "nosuch", "appjson-path", "x.json"], "App nosuch does not exist"),
    ],
)  # fmt: skip
def test_a_bad_property_value_is_refused_with_one_line_and_nothing_changes(dokku, tmp_path, words, message):
    before = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    code, output = dokku(*words)
    assert code != 0 and output.startswith(" !     ") and message in output, output
    assert output.count("\n") == 1
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == before
