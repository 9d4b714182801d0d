"""A tenant's container meets no other container: every app container sits on the apps' network
(inter-container traffic off), web containers on the web network too (internal, the same), without
NET_RAW and with no-new-privileges (runtime/isolation.py, runtime/web_addresses.py). A user key's
app, from a one-off container and from its own web container, tries the paths around nginx: the
victim web container's own addresses and port (where a forged X-Forwarded-For would be believed),
the port it publishes on the host's loopback, through each bridge's gateway, and raw sockets (ARP
spoofing)."""

import json
import secrets
import socket
import time

import pytest
from helpers import APPS, make_git_repo, namespace_of, wait_until_serving
from security_helpers import VICTIM, quoted

from minidokku.access import rules
from minidokku.errors import EngineError
from minidokku.plugins.postgres import records
from minidokku.runtime import docker_scheduler, isolation, labels, web_addresses

USER = "eve"
TENANT = "netting"
TENANT_HOST = f"{TENANT}.example.test"
OTHER = "neighbour"  # an admin's app linked to the same database as the tenant's
DATABASE = "shared"
CONNECT_SECONDS = 3
CAP_NET_RAW = 13  # the capability's bit in /proc/self/status CapEff
# Run in the tenant's one-off container with HOST PORT pairs: a JSON line of what it reached.
PROBE = f"""
import json, socket, sys
def reach(host, port):
    try:
        socket.create_connection((host, port), timeout={CONNECT_SECONDS}).close()
        return "connected"
    except OSError as error:
        return type(error).__name__
def raw():
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
        return "opened"
    except OSError as error:
        return type(error).__name__
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
pairs = sys.argv[1:]
print(json.dumps({{
    "reached": {{f"{{host}}:{{port}}": reach(host, int(port)) for host, port in zip(pairs[::2], pairs[1::2])}},
    "raw_socket": raw(),
    "cap_eff": status["CapEff"].strip(),
    "no_new_privs": status["NoNewPrivs"].strip(),
}}))
"""
BLOCKED = ("TimeoutError", "ConnectionRefusedError")


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return ssh_client.with_key(USER, rules.USER)


@pytest.fixture(scope="module")
def tenant(platform, user_key, tmp_path_factory):
    repo = make_git_repo(tmp_path_factory.mktemp("tenant") / TENANT, APPS / "shell-serve")
    pushed = user_key.push(repo, TENANT)
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, TENANT_HOST, "hello from a shell script on web.1\n", timeout=15)
    return repo


def web_container(engine, platform, app: str) -> dict:
    namespace = platform.settings()["NAMESPACE"]
    found = engine.list_containers(
        {labels.APP: namespace + app, labels.ROLE: docker_scheduler.PROCESS_ROLE, labels.PROCESS_TYPE: "web"},
        all_states=False,
    )
    return engine.inspect_container(next(c["Id"] for c in found if ".retiring-" not in c["Names"][0]))


def probe(user_key, *pairs, where: tuple[str, ...] = ("run", TENANT)) -> dict:
    """What the tenant's container reaches of the (host, port) pairs, and its privileges: a one-off
    container, or (where `enter TENANT web`) its web container, on the web network too."""
    result = user_key.ssh(quoted(*where, "python3", "-c", PROBE, *map(str, pairs)))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("where", [("run", TENANT), ("enter", TENANT, "web")])
def test_a_tenant_cannot_reach_the_victims_container_around_nginx(engine, platform, user_key, tenant, where):
    victim = web_container(engine, platform, VICTIM)
    endpoints = namespace_of(victim)["NetworkSettings"]["Networks"]
    assert web_addresses.NETWORK in endpoints and len(endpoints) == 2  # the apps' network and the web network
    port = int(dict(item.split("=", 1) for item in victim["Config"]["Env"])["PORT"])
    host_port = int(next(iter(namespace_of(victim)["NetworkSettings"]["Ports"].values()))[0]["HostPort"])
    pairs = [(endpoint["IPAddress"], port) for endpoint in endpoints.values()]
    pairs += [(endpoint["Gateway"], host_port) for endpoint in endpoints.values()]
    for address, _ in pairs[:2]:  # it is there: the host reaches it at each address
        socket.create_connection((address, port), timeout=CONNECT_SECONDS).close()

    started = time.monotonic()
    reached = probe(user_key, *(word for pair in pairs for word in pair), where=where)["reached"]
    took = time.monotonic() - started

    assert all(reached[f"{host}:{port}"] in BLOCKED for host, port in pairs), reached
    assert took < 4 * CONNECT_SECONDS + 20, f"the probe took {took:.1f} s"
    wait_until_serving(platform, TENANT_HOST, "hello from a shell script on web.1\n")


def test_a_tenants_container_has_no_raw_sockets_and_gains_no_privileges(user_key, tenant):
    reached = probe(user_key)

    assert not int(reached["cap_eff"], 16) & (1 << CAP_NET_RAW), reached
    assert reached["raw_socket"] == "PermissionError", reached
    assert reached["no_new_privs"] == "1", reached


def test_the_tenants_processes_run_on_the_apps_network_hardened(engine, platform, tenant):
    container = web_container(engine, platform, TENANT)
    host = container["HostConfig"]
    network_mode = namespace_of(container)["HostConfig"]["NetworkMode"]

    assert network_mode == isolation.network_name(platform.settings()["NAMESPACE"])
    assert "NET_RAW" in host["CapDrop"] and "no-new-privileges" in host["SecurityOpt"]
    network = engine.inspect_network(network_mode)
    assert network["Options"]["com.docker.network.bridge.enable_icc"] == "false"


def test_an_apps_network_made_with_inter_container_traffic_on_is_refused_not_used(engine):
    namespace = f"test-{secrets.token_hex(3)}-"
    made_by_hand, made_by_us = isolation.network_name(namespace), isolation.network_name(namespace + "x-")
    engine.create_network(made_by_hand, {})
    try:
        with pytest.raises(EngineError, match=f"docker network rm {made_by_hand}"):
            isolation.ensure_network(engine, made_by_hand)
        isolation.ensure_network(engine, made_by_us)
        isolation.ensure_network(engine, made_by_us)  # found, not made twice
        assert engine.inspect_network(made_by_us)["Options"] == isolation.NETWORK_OPTIONS
    finally:
        engine.remove_network(made_by_hand)
        engine.remove_network(made_by_us)


def test_apps_linked_to_one_database_reach_it_and_never_each_other(
    engine, platform, user_key, tenant, tmp_path_factory
):
    namespace = platform.settings()["NAMESPACE"]
    other = make_git_repo(tmp_path_factory.mktemp("other") / OTHER, APPS / "shell-serve")
    assert platform.push(other, OTHER).returncode == 0
    platform.dokku("postgres:create", DATABASE)
    platform.dokku("postgres:link", DATABASE, OTHER)
    platform.dokku("postgres:link", DATABASE, TENANT)
    wait_until_serving(platform, TENANT_HOST, "hello from a shell script on web.1\n", timeout=15)

    tenant_networks = namespace_of(web_container(engine, platform, TENANT))["NetworkSettings"]["Networks"]
    other_web = web_container(engine, platform, OTHER)
    other_networks = namespace_of(other_web)["NetworkSettings"]["Networks"]
    other_addresses = [endpoint["IPAddress"] for endpoint in other_networks.values()]
    other_port = int(dict(item.split("=", 1) for item in other_web["Config"]["Env"])["PORT"])
    service = engine.inspect_container(platform.dokku("postgres:info", DATABASE, "--id").stdout.strip())
    other_pairs = [word for address in other_addresses for word in (address, other_port)]
    reached = probe(user_key, records.hostname(DATABASE), records.PORT, *other_pairs)["reached"]

    assert sorted(tenant_networks)[0] == web_addresses.NETWORK and len(tenant_networks) == 2, tenant_networks
    link_network = sorted(tenant_networks)[1]
    assert link_network not in (isolation.network_name(namespace), f"{namespace}{records.NETWORK}")
    assert link_network in service["NetworkSettings"]["Networks"]
    assert link_network not in other_networks
    assert reached[f"{records.hostname(DATABASE)}:{records.PORT}"] == "connected", reached
    assert all(reached[f"{address}:{other_port}"] in BLOCKED for address in other_addresses), reached

    platform.dokku("postgres:unlink", DATABASE, TENANT)
    wait_until_serving(platform, TENANT_HOST, "hello from a shell script on web.1\n", timeout=15)
    service = engine.inspect_container(service["Id"])
    assert link_network not in service["NetworkSettings"]["Networks"]
    tenant_web = namespace_of(web_container(engine, platform, TENANT))
    assert tenant_web["HostConfig"]["NetworkMode"] == isolation.network_name(namespace)
