"""The laptop client's reading of what it was asked and where to send it (minidokku/client/):
the forms of a Dokku git remote, the values a hostile repository's config could put in them,
the words the server is sent (the app added as Dokku's client adds it), ssh's argv, and when
`dokku` is the client at all (minidokku/entry.py)."""

import pytest

from minidokku.client import command_line, remotes, ssh
from minidokku.client.remotes import Server, Target
from minidokku.entry import runs_client
from minidokku.errors import ValidationError


@pytest.mark.parametrize(
    "url, target",
    [
        ("dokku@example.com:catmeow", Target(Server("example.com", "dokku"), "catmeow")),
        ("dokku@example.com:catmeow.git", Target(Server("example.com", "dokku"), "catmeow")),
        ("example.com:catmeow", Target(Server("example.com"), "catmeow")),
        ("ssh://dokku@example.com/catmeow", Target(Server("example.com", "dokku"), "catmeow")),
        ("ssh://dokku@example.com:2222/catmeow", Target(Server("example.com", "dokku", 2222), "catmeow")),
        ("git+ssh://root@10.0.0.5:22/catmeow.git", Target(Server("10.0.0.5", "root", 22), "catmeow")),
        ("ssh://dokku@[2001:db8::1]:2222/catmeow", Target(Server("2001:db8::1", "dokku", 2222), "catmeow")),
        ("dokku@[::1]:catmeow", Target(Server("::1", "dokku"), "catmeow")),
        ("ssh://dokku@example.com:/catmeow", Target(Server("example.com", "dokku"), "catmeow")),  # empty port
    ],
)
def test_a_dokku_remote_names_its_server_and_app(url, target):
    assert remotes.parse_remote(url) == target


@pytest.mark.parametrize(
    "url",
    [
        "dokku@-oProxyCommand=touch%20x:catmeow",  # an ssh option for a host
        "ssh://dokku@-oProxyCommand=x/catmeow",
        "-oProxyCommand=x@host:catmeow",  # an option for a user
        "ssh://-lroot@host/catmeow",
        "ssh://dokku@host:22x/catmeow",  # a port that is no number
        "ssh://dokku@host:0/catmeow",
        "dokku@host:../other",  # not an app name
        "dokku@host:cat;meow",
        "dokku@host:",
        "dokku@ho st:catmeow",
        "https://example.com/catmeow.git",  # not ssh: no server's remote
        "/srv/git/catmeow.git",
        "ext::sh -c touch% x",
        "file:///tmp/catmeow",
        "dokku@[fe80::1%$(touch${IFS}PWNED)]:catmeow",  # an IPv6 zone: any text but `%`
        "dokku@[::1%x@evil.example]:catmeow",
        "dokku@[::1%\x1b[2J\x1b[31mFAKE\nline2]:catmeow",
        "ssh://dokku@[fe80::1%eth0]:22/catmeow",
        "dokku@[example.com]:catmeow",  # brackets hold an IPv6 address
    ],
)
def test_a_remote_that_is_no_dokku_remote_or_carries_an_option_is_refused(url):
    with pytest.raises(ValidationError):
        remotes.parse_remote(url)


def test_dokku_host_names_the_server_with_the_dokku_user_unless_it_names_one():
    assert remotes.server_from_environment("example.com", "") == Server("example.com", "dokku", None)
    assert remotes.server_from_environment("root@10.0.0.5", "2222") == Server("10.0.0.5", "root", 2222)
    assert remotes.server_from_environment("[::1]", "") == Server("::1", "dokku", None)
    for host, port in [
        ("-oProxyCommand=x", ""), ("example.com", "ssh"), ("-l@example.com", ""), ("fe80::1%eth0", ""),
        ("[fe80::1%;id]", ""),
    ]:  # fmt: skip
        with pytest.raises(ValidationError):
            remotes.server_from_environment(host, port)


def test_the_remote_added_for_an_app_is_dokkus_short_form_unless_a_port_is_needed():
    assert Server("example.com", "dokku").url("catmeow") == "dokku@example.com:catmeow"
    assert Server("example.com", "dokku", 22).url("catmeow") == "dokku@example.com:catmeow"
    assert Server("example.com", "dokku", 2222).url("catmeow") == "ssh://dokku@example.com:2222/catmeow"
    assert Server("::1", "dokku", 2222).url("catmeow") == "ssh://dokku@[::1]:2222/catmeow"
    for server in [Server("example.com", "dokku", 2222), Server("::1", "dokku")]:
        assert remotes.parse_remote(server.url("catmeow")) == Target(server, "catmeow")


def test_the_global_flags_before_the_command_are_read_and_the_rest_passed_on():
    line = command_line.parse(["--quiet", "--remote", "staging", "--app=catmeow", "--trace", "logs", "-t"])
    assert (line.flags, line.remote, line.app) == (("--quiet", "--trace"), "staging", "catmeow")
    assert line.words == ("logs", "-t")
    assert command_line.parse(["run", "--app", "x"]).app is None  # after the command: the command's
    for argv in (["--remote"], ["--app", "", "apps:destroy", "--force"], ["--app=", "config"], ["--remote", "", "x"]):
        with pytest.raises(ValidationError):  # `--app "$APP"` with APP unset names no app, not the checkout's
            command_line.parse(argv)


@pytest.mark.parametrize(
    "argv, sent",
    [
        (["config:set", "K=V"], ["--app", "catmeow", "config:set", "K=V"]),
        (["logs", "-t"], ["--app", "catmeow", "logs", "-t"]),
        (["run", "python", "manage.py", "migrate"], ["--app", "catmeow", "run", "python", "manage.py", "migrate"]),
        (["--quiet", "ps:scale", "web=2"], ["--quiet", "--app", "catmeow", "ps:scale", "web=2"]),
        (["apps:destroy", "catmeow", "--force"], ["apps:destroy", "catmeow", "--force"]),  # named: sent once
        (["config:set", "--global", "K=V"], ["config:set", "--global", "K=V"]),
        (["ps:restart", "--all"], ["ps:restart", "--all"]),
        (["config:set", "--no-restart", "--global", "K=V"], ["config:set", "--no-restart", "--global", "K=V"]),
        (["run", "worker", "cleanup", "--all"], ["--app", "catmeow", "run", "worker", "cleanup", "--all"]),  # run's
        (["ps:restore"], ["ps:restore"]),
        ([], ["--app", "catmeow", "help"]),
    ],
)
def test_the_remotes_app_is_sent_as_the_global_app_option_where_dokkus_client_sends_it(argv, sent):
    assert command_line.request(command_line.parse(argv), "catmeow") == sent


def test_without_an_app_the_words_go_as_typed():
    assert command_line.request(command_line.parse(["apps:list"]), None) == ["apps:list"]


def test_a_made_up_app_name_is_a_valid_one():
    from minidokku.records.names import validate_app_name

    assert validate_app_name(command_line.random_app_name())


def test_ssh_reads_no_option_after_the_destination_and_the_server_gets_each_word_as_typed():
    argv = ssh.argv(Server("example.com", "dokku", 2222), ["config:set", "K=a b; rm -rf /", "-t"], terminal=False)
    assert argv == [
        "ssh", "-o", "LogLevel=ERROR", "-p", "2222", "-l", "dokku", "--", "example.com",
        "config:set", "'K=a b; rm -rf /'", "-t",
    ]  # fmt: skip


def test_ssh_asks_for_a_terminal_only_when_it_has_one_and_leaves_unknown_parts_to_its_config():
    assert ssh.argv(Server("myvps"), ["run", "bash"], terminal=True) == [
        "ssh", "-o", "LogLevel=ERROR", "-t", "--", "myvps", "run", "bash",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "argv, environ, server_here, client",
    [
        ([], {"SSH_ORIGINAL_COMMAND": "apps:list", "DOKKU_HOST": "elsewhere"}, True, False),  # a key's session
        ([], {"SSH_ORIGINAL_COMMAND": "apps:list"}, False, False),
        ([], {"NAME": "alice", "FINGERPRINT": "SHA256:x", "DOKKU_HOST": "db.lan"}, True, False),  # a shell asked for
        ([], {"NAME": "alice", "FINGERPRINT": "SHA256:x"}, False, False),
        (["apps:list"], {"DOKKU_HOST": ""}, True, False),  # empty: no server named
        (["--app"], {}, True, False),  # the server says what is wrong
        (["--remote=", "apps:list"], {}, True, True),
        (["apps:list"], {"DOKKU_HOST": "example.com"}, True, True),
        (["--remote", "staging", "apps:list"], {}, True, True),
        (["apps:list"], {}, True, False),
        (["apps:list"], {}, False, True),
        (["git-hook", "catmeow"], {"SSH_ORIGINAL_COMMAND": "git-receive-pack 'catmeow'"}, True, False),
    ],
)
def test_dokku_is_the_client_with_a_remote_asked_for_or_where_no_server_is_installed(
    argv, environ, server_here, client
):
    assert runs_client(argv, environ, server_here) is client
