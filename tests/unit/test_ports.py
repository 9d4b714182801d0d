"""Port mappings: which host ports an app may be given, and the port of its own."""

import socket

import pytest

from minidokku.access import rules
from minidokku.errors import ValidationError
from minidokku.routing import ports
from minidokku.routing.nginx import PortMap
from minidokku.state import Store

SHARED = {8080, 8443}  # the machine's HTTP and HTTPS ports in these tests


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path)
    for app in ("tenant", "victim"):
        store.write(app, "HEAD", "ref: refs/heads/main\n")
    rules.grant(store, "tenant", "eve")  # a user key's app
    ports.set_(store, "victim", ["http:9000:5000"])
    store.write("victim", ports.OWN_PORT_FILE, "10000\n")
    return store


@pytest.fixture
def busy_port():
    """A port some other program listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def check(store, app, *texts, nginx_ports=frozenset()):
    ports.check_listenable(store, app, [ports.parse(text) for text in texts], SHARED, set(nginx_ports))


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ("http:22:5000", "port 22 is privileged: an app of a user key gets the HTTP and HTTPS ports (8080 and 8443)"),
        ("https:443:5000", "port 443 is privileged"),
        ("http:9000:5000", "port 9000 is a port of app victim; an app of a user key gets its own"),
        ("http:10000:5000", "port 10000 is a port of app victim"),
    ],
)
def test_a_tenant_app_gets_no_privileged_port_and_no_other_apps_port(store, mapping, problem):
    with pytest.raises(ValidationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        check(store, "tenant", mapping)


def test_a_tenant_app_shares_the_machines_http_and_https_ports_and_takes_free_ones(store):
    check(store, "tenant", "http:8080:5000", "https:8443:5000", "http:9001:5000")


def test_an_admins_app_may_take_any_port_nothing_else_listens_on(store):
    check(store, "victim", "http:25:5000", "http:9000:5000")


@pytest.mark.parametrize("app", ["tenant", "victim"])
def test_a_port_another_program_listens_on_is_refused_for_every_app(store, busy_port, app):
    with pytest.raises(ValidationError, match=f"port {busy_port} is in use by another program on this host"):
        check(store, app, f"http:{busy_port}:5000")


def test_a_port_nginx_itself_listens_on_is_not_in_use_by_another_program(store, busy_port):
    check(store, "victim", f"http:{busy_port}:5000", nginx_ports={busy_port})


def test_the_port_of_its_own_skips_other_apps_ports_and_ports_in_use(store, busy_port):
    store.write("victim", ports.OWN_PORT_FILE, f"{ports.FIRST_OWN_PORT}\n")
    assert ports.own_port(store, "tenant") not in {ports.FIRST_OWN_PORT, busy_port, 9000}
    assert ports.own_port(store, "tenant") == ports.own_port(store, "tenant"), "picked once, then kept"


def test_restore_puts_the_mappings_back(store):
    before = ports.explicit(store, "victim")
    ports.add(store, "victim", ["http:9001:5000"])
    ports.restore(store, "victim", before)
    assert ports.explicit(store, "victim") == [PortMap("http", 9000, 5000)]
    ports.restore(store, "victim", [])
    assert ports.explicit(store, "victim") == []
