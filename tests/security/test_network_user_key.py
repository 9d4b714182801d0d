"""network:* against a user key with an app of its own, while an admin has put the victim on a
network of network:create: every network command but `network:report` of its own app is refused
with one line that changes nothing, and no path around network:set puts the key's app beside the
victim: a docker-option naming that network (or another app's postgres link network, or the apps'
network) is refused when added to the key's app, and left out when an admin's global option names
it, so the key's one-off container neither resolves the victim's alias nor reaches its address."""

import ipaddress
import json

import pytest
from helpers import APPS, make_git_repo, namespace_of
from security_helpers import VICTIM, quoted
from test_ps_properties_user_key import refused_without_change

from minidokku.access import rules
from minidokku.runtime import labels
from minidokku.runtime.docker_scheduler import PROCESS_ROLE

USER = "mallory"
OWN = "mallorys"
NETWORK = "backend"
PORT = 5000
PROBE = """
import json, socket, sys
def reach(host):
    try:
        socket.create_connection((host, 5000), timeout=3).close()
        return "connected"
    except OSError as error:
        return type(error).__name__
print(json.dumps({host: reach(host) for host in sys.argv[1:]}))
"""


@pytest.fixture(scope="module")
def user_key(ssh_client, victim, tmp_path_factory):
    key = ssh_client.with_key(USER, rules.USER)
    pushed = key.push(make_git_repo(tmp_path_factory.mktemp("own") / OWN, APPS / "shell-serve"), OWN)
    assert pushed.returncode == 0, pushed.stderr
    return key


@pytest.fixture(scope="module")
def victim_on_network(platform, engine, victim):
    """The victim, on the network an admin made, by network:set and network:rebuild (no restart)."""
    namespace = platform.settings()["NAMESPACE"]
    platform.dokku("network:create", NETWORK)
    platform.dokku("network:set", VICTIM, "attach-post-create", NETWORK)
    platform.dokku("network:rebuild", VICTIM)
    yield f"{namespace}{NETWORK}"
    platform.dokku("network:set", VICTIM, "attach-post-create")
    platform.dokku("network:rebuild", VICTIM)
    platform.dokku("network:destroy", NETWORK, "--force")


def victims_address(platform, engine, network: str) -> str:
    namespace = platform.settings()["NAMESPACE"]
    wanted = {labels.APP: namespace + VICTIM, labels.ROLE: PROCESS_ROLE, labels.PROCESS_TYPE: "web"}
    found = [c for c in engine.list_containers(wanted, all_states=False) if ".retiring-" not in c["Names"][0]]
    return namespace_of(engine.inspect_container(found[0]["Id"]))["NetworkSettings"]["Networks"][network]["IPAddress"]


ADMIN_ONLY = [
    ("network:set", OWN, "attach-post-create", NETWORK),
    ("network:set", OWN, "initial-network", NETWORK),
    ("network:set", OWN, "bind-all-interfaces", "true"),
    ("network:set", "--global", "attach-post-create", NETWORK),
    ("network:rebuild", OWN),
    ("network:rebuildall",),
    ("network:create", "mallorynet"),
    ("network:destroy", NETWORK, "--force"),
    ("network:exists", NETWORK),
    ("network:info", NETWORK),
    ("network:list",),
    ("network:report",),
    ("network:report", "--global"),
]


@pytest.mark.parametrize("words", ADMIN_ONLY, ids=[" ".join(words) for words in ADMIN_ONLY])
def test_a_user_key_runs_no_network_command_but_its_own_apps_report(
    platform, engine, user_key, victim_on_network, words
):
    refused_without_change(
        platform, engine, user_key, words, f"{words[0]} is for admin keys only; {USER} is a user key"
    )


def test_a_user_key_reads_no_other_apps_network_report(platform, engine, user_key, victim_on_network):
    for words in (("network:report", VICTIM), ("network:report", VICTIM, "--network-attach-post-create")):
        refused_without_change(platform, engine, user_key, words, f"App {VICTIM} does not exist")


def test_a_user_key_reads_its_own_apps_network_report(user_key, victim_on_network):
    report = json.loads(user_key.ssh(quoted("network:report", OWN, "--format", "json")).stdout)
    assert (report["computed-attach-post-create"], report["computed-initial-network"]) == ("", "")
    address, port = report["web-listeners"].split(":")  # the web container's pinned address, its PORT
    assert ipaddress.IPv4Address(address).is_private and port == "5000", report


@pytest.mark.parametrize(
    "network",
    [
        "{namespace}backend",  # the victim's network of network:create
        "{namespace}dokku.postgres.links.victim",  # another app's postgres link network (its database)
        "{namespace}minidokku-services",  # the postgres servers' own network
        "{namespace}minidokku-apps",
        "minidokku-web",  # where nginx reaches every root's web containers
    ],
)
def test_a_docker_option_onto_another_apps_network_is_refused_for_the_users_app(
    platform, engine, user_key, victim_on_network, network
):
    named = network.format(namespace=platform.settings()["NAMESPACE"])
    for phases in ("deploy", "run", "build,deploy,run"):
        words = ("docker-options:add", OWN, phases, f"--network {named}")
        refused_without_change(platform, engine, user_key, words, "docker-options:add is for admin keys only")
    refused = platform.dokku("docker-options:add", OWN, "deploy,run", f"--network={named}", check=False)
    assert refused.returncode == 1
    assert f"{OWN} is a user key's app: it cannot get --network {named}" in refused.stderr


def test_an_admins_global_option_naming_the_network_leaves_the_users_app_off_it(
    platform, engine, user_key, victim_on_network
):
    address = victims_address(platform, engine, victim_on_network)
    platform.dokku("docker-options:add", "--global", "run", f"--network {victim_on_network}")
    try:
        probed = user_key.ssh(quoted("run", OWN, "python3", "-c", PROBE, f"{VICTIM}.web", address))
    finally:
        platform.dokku("docker-options:remove", "--global", "run", f"--network {victim_on_network}")
    assert probed.returncode == 0, probed.stderr
    assert f"Not applied to {OWN}, a user key's app: --network {victim_on_network}" in probed.stderr
    reached = json.loads(probed.stdout.strip().splitlines()[-1])
    assert reached[f"{VICTIM}.web"] == "gaierror", reached
    assert reached[address] in ("TimeoutError", "timeout", "ConnectionRefusedError", "OSError"), reached
    # the control: from the victim's own one-off container (on the network), the alias answers
    control = platform.dokku("run", VICTIM, "python3", "-c", PROBE, f"{VICTIM}.web")
    assert json.loads(control.stdout.strip().splitlines()[-1]) == {f"{VICTIM}.web": "connected"}
