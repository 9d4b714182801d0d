"""The `:set` and `:report` shapes (minidokku/cli/family.py) print what they always printed: the
outputs below were recorded from the commands before they shared the helpers (ROOT: the state
root). An app never deployed, whose reports touch neither Docker nor nginx."""

import pytest
from click.testing import CliRunner

from minidokku.cli import cli

# In order: each changes what the reports below show. (words, exit code, output lines)
SETTINGS = [
    (
        ["checks:set", "catmeow", "wait-to-retire", "30"],
        0,
        [
            "-----> Setting wait-to-retire to 30",
        ],
    ),
    (
        ["checks:set", "catmeow", "wait-to-retire"],
        0,
        [
            "-----> Unsetting wait-to-retire",
        ],
    ),
    (
        ["checks:set", "catmeow", "nosuch", "1"],
        1,
        [
            " !     unknown checks property 'nosuch'; known: wait-to-retire",
        ],
    ),
    (
        ["ps:set", "catmeow", "restart-policy", "always"],
        0,
        [
            "-----> Setting restart-policy to always",
        ],
    ),
    (
        ["ps:set", "catmeow", "restart-policy"],
        0,
        [
            "-----> Unsetting restart-policy",
        ],
    ),
    (
        ["ps:set", "catmeow", "nosuch", "1"],
        1,
        [
            " !     unknown ps property 'nosuch'; known: dockerfile-start-cmd, procfile-path, restart-policy, "
            "restore, skip-deploy, start-cmd, stop-timeout-seconds",
        ],
    ),
    (
        ["nginx:set", "catmeow", "hsts", "false"],
        0,
        [
            "-----> Setting hsts to false",
        ],
    ),
    (
        ["nginx:set", "catmeow", "hsts"],
        0,
        [
            "-----> Resetting hsts to its default",
        ],
    ),
    (
        ["builder:set", "catmeow", "selected", "dockerfile"],
        0,
        [
            "-----> Setting selected to dockerfile",
        ],
    ),
    (
        ["builder:set", "catmeow", "selected"],
        0,
        [
            "-----> Unsetting selected",
        ],
    ),
    (
        ["builder:set", "catmeow", "nosuch", "x"],
        1,
        [
            " !     Invalid property specified, valid properties include: build-dir, selected",
        ],
    ),
    (
        ["checks:disable", "catmeow", "worker"],
        0,
        [
            "-----> Zero-downtime checks disabled for catmeow (worker)",
        ],
    ),
    (
        ["ps:set", "catmeow", "restart-policy", "unless-stopped"],
        0,
        [
            "-----> Setting restart-policy to unless-stopped",
        ],
    ),
    (
        ["ps:set", "catmeow", "start-cmd", "gunicorn catmeow:app"],
        0,
        [
            "-----> Setting start-cmd to gunicorn catmeow:app",
        ],
    ),
    (
        ["nginx:set", "catmeow", "client-max-body-size", "1k"],
        0,
        [
            "-----> Setting client-max-body-size to 1k",
        ],
    ),
    (
        ["builder:set", "catmeow", "selected", "herokuish"],
        0,
        [
            "-----> Setting selected to herokuish",
        ],
    ),
]
REPORTS = [
    (
        ["apps:report", "catmeow"],
        0,
        [
            "=====> catmeow app information",
            "       App deploy source:                ",
            "       App deploy source metadata:       ",
            "       App dir:                          ROOT/catmeow",
            "       App global disable autocreation:  ",
            "       App letsencrypt failure:          -",
            "       App locked:                       false",
            "       App url:                          http://localhost:10000",
        ],
    ),
    (
        ["buildpacks:report", "catmeow"],
        0,
        [
            "=====> catmeow buildpacks information",
            "       Buildpacks list:        none (detection, .buildpacks or BUILDPACK_URL)",
        ],
    ),
    (
        ["builder:report", "catmeow"],
        0,
        [
            "=====> catmeow builder information",
            "       Builder computed build dir: ",
            "       Builder global build dir:   ",
            "       Builder build dir:          ",
            "       Builder computed selected:  herokuish",
            "       Builder global selected:    ",
            "       Builder selected:           herokuish",
        ],
    ),
    (
        ["certs:report", "catmeow"],
        0,
        [
            "=====> catmeow ssl information",
            "       Ssl dir:                       ROOT/catmeow/tls",
            "       Ssl enabled:                   false",
            "       Ssl hostnames:",
            "       Ssl expires at:",
            "       Ssl issuer:",
            "       Ssl starts at:",
            "       Ssl subject:",
            "       Ssl verified:",
        ],
    ),
    (
        ["checks:report", "catmeow"],
        0,
        [
            "=====> catmeow checks information",
            "       Checks disabled list:           worker",
            "       Checks skipped list:            none",
            "       Checks computed wait to retire: 60",
            "       Checks global wait to retire:   ",
            "       Checks wait to retire:          ",
        ],
    ),
    (
        ["docker-options:report", "catmeow"],
        0,
        [
            "=====> catmeow docker options information",
            "       Docker options build:   ",
            "       Docker options deploy:  ",
            "       Docker options run:     ",
        ],
    ),
    (
        ["docker-options:report", "--global"],
        0,
        [
            "=====> global docker options information",
            "       Docker options build:   ",
            "       Docker options deploy:  ",
            "       Docker options run:     ",
        ],
    ),
    (
        ["domains:report", "catmeow"],
        0,
        [
            "=====> catmeow domains information",
            "       Domains app enabled:    true",
            "       Domains app vhosts:     ",
            "       Domains app url:        http://localhost:10000",
            "       Domains global enabled: false",
            "       Domains global vhosts:  ",
        ],
    ),
    (
        ["domains:report", "--global"],
        0,
        [
            "=====> global domains information",
            "       Domains global enabled: false",
            "       Domains global vhosts:  ",
        ],
    ),
    (
        ["nginx:report", "catmeow"],
        0,
        [
            "=====> catmeow nginx information",
            "       Client max body size:       1k",
            "       Proxy read timeout:         60s",
            "       Proxy connect timeout:      60s",
            "       Proxy send timeout:         60s",
            "       Proxy buffer size:          4k",
            "       Proxy buffering:            on",
            "       Proxy buffers:              8 4k",
            "       Proxy busy buffers size:    8k",
            "       Access log path:            default",
            "       Error log path:             default",
            "       Hsts:                       true",
            "       Hsts include subdomains:    true",
            "       Hsts max age:               15724800",
            "       Hsts preload:               false",
            "       Allow custom template:      false",
        ],
    ),
    (
        ["ports:report", "catmeow"],
        0,
        [
            "=====> catmeow ports information",
            "       Ports map:              -",
            "       Ports map detected:     http:10000:5000",
        ],
    ),
    (
        ["proxy:report", "catmeow"],
        0,
        [
            "=====> catmeow proxy information",
            "       Proxy enabled:          true",
            "       Proxy type:             nginx",
            "       Proxy port map:         http:10000:5000",
            "       Proxy url:              http://localhost:10000",
        ],
    ),
    (
        ["ps:report", "catmeow"],
        0,
        [
            "=====> catmeow ps information",
            "       Deployed:                          false",
            "       Release:                           -",
            "       Processes:                         0",
            "       Ps can scale:                      true",
            "       Scale:                             -",
            "       Ps computed procfile path:         Procfile",
            "       Ps global procfile path:           ",
            "       Ps procfile path:                  ",
            "       Ps computed restart policy:        unless-stopped",
            "       Ps global restart policy:          ",
            "       Ps restart policy:                 unless-stopped",
            "       Ps computed skip deploy:           false",
            "       Ps global skip deploy:             ",
            "       Ps skip deploy:                    ",
            "       Ps computed stop timeout seconds:  10",
            "       Ps global stop timeout seconds:    ",
            "       Ps stop timeout seconds:           ",
            "       Ps computed dockerfile start cmd:  ",
            "       Ps dockerfile start cmd:           ",
            "       Ps computed start cmd:             gunicorn catmeow:app",
            "       Ps start cmd:                      gunicorn catmeow:app",
            "       Running:                           false",
            "       Restore:                           true",
        ],
    ),
    (
        ["resource:report", "catmeow"],
        0,
        [
            "=====> catmeow resource information",
            "       _build_ limit cpu:             1",
            "       _build_ limit memory:          1g",
            "       _build_ limit memory swap:     1g",
            "       _build_ limit pids:            1024",
            "       _build_ reserve cpu:",
            "       _build_ reserve memory:",
            "       _default_ limit cpu:           1",
            "       _default_ limit memory:        512m",
            "       _default_ limit memory swap:   512m",
            "       _default_ limit pids:          512",
            "       _default_ reserve cpu:",
            "       _default_ reserve memory:",
        ],
    ),
    (
        ["apps:report"],
        0,
        [
            "=====> catmeow app information",
            "       App deploy source:                ",
            "       App deploy source metadata:       ",
            "       App dir:                          ROOT/catmeow",
            "       App global disable autocreation:  ",
            "       App letsencrypt failure:          -",
            "       App locked:                       false",
            "       App url:                          http://localhost:10000",
        ],
    ),
    (
        ["checks:report"],
        0,
        [
            "=====> catmeow checks information",
            "       Checks disabled list:           worker",
            "       Checks skipped list:            none",
            "       Checks computed wait to retire: 60",
            "       Checks global wait to retire:   ",
            "       Checks wait to retire:          ",
        ],
    ),
]


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.delenv("NAME", raising=False)
    runner = CliRunner()

    def run(words: list[str]) -> tuple[int, str]:
        result = runner.invoke(cli, words)
        return result.exit_code, result.output.replace(str(tmp_path), "ROOT")

    run(["apps:create", "catmeow"])
    return run


def test_set_commands_print_what_they_always_printed_then_reports_show_it(dokku):
    for words, code, lines in SETTINGS + REPORTS:
        assert dokku(words) == (code, "\n".join(lines) + "\n"), words
