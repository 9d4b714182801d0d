"""network:* on the real engine (ops/network.py): two apps on a network of network:create reach each
other by Dokku's names (`APP.web`, with a tld `APP.web.TLD`); an app not on it reaches neither, not
even by the other's address there; network:rebuild puts a running app on it and off it again
without a restart; a network in use is not destroyed."""

import json

import pytest
from helpers import APPS, make_git_repo, namespace_of, wait_until_serving

from minidokku.ops.network import MANAGED_LABEL
from minidokku.runtime import host_ports, labels
from minidokku.runtime.docker_scheduler import PROCESS_ROLE

NETWORK = "backend"
ON, ALSO_ON, OFF = "alpha", "beta", "gamma"
PAGE = "hello from a shell script on web.1\n"
PORT = 5000  # a buildpack app's web PORT
# Run in a one-off container of an app: what each URL answered, or the error's name, as JSON.
FETCH = """
import json, sys, urllib.request
def fetch(url):
    try:
        return urllib.request.urlopen(url, timeout=3).read().decode()
    except Exception as error:
        return type(error.reason if hasattr(error, "reason") else error).__name__
print(json.dumps({url: fetch(url) for url in sys.argv[1:]}))
"""


@pytest.fixture
def three_apps(platform, engine, tmp_path):
    """alpha and beta on the network (attach-post-create, set before their first deploy), gamma not."""
    namespace = platform.settings()["NAMESPACE"]
    platform.dokku("network:create", NETWORK)
    try:
        for app in (ON, ALSO_ON, OFF):
            platform.dokku("apps:create", app)
            if app != OFF:
                platform.dokku("network:set", app, "attach-post-create", NETWORK)
            pushed = platform.push(make_git_repo(tmp_path / app, APPS / "shell-serve"), app)
            assert pushed.returncode == 0, pushed.stderr
        yield platform
    finally:
        for app in (ON, ALSO_ON, OFF):
            platform.dokku("apps:destroy", app, "--force", check=False)
        engine.remove_network(f"{namespace}{NETWORK}")


def fetch(platform, app: str, *urls: str) -> dict[str, str]:
    ran = platform.dokku("run", app, "python3", "-c", FETCH, *urls)
    return json.loads(ran.stdout.strip().splitlines()[-1])


def web(engine, platform, app: str) -> dict:
    namespace = platform.settings()["NAMESPACE"]
    wanted = {labels.APP: namespace + app, labels.ROLE: PROCESS_ROLE, labels.PROCESS_TYPE: "web"}
    found = [c for c in engine.list_containers(wanted, all_states=False) if ".retiring-" not in c["Names"][0]]
    return engine.inspect_container(found[0]["Id"])


def test_apps_on_one_network_call_each_other_by_name_and_an_app_off_it_cannot(three_apps, engine):
    platform = three_apps
    namespace = platform.settings()["NAMESPACE"]
    network = f"{namespace}{NETWORK}"
    beta = web(engine, platform, ALSO_ON)
    endpoint = beta["NetworkSettings"]["Networks"][network]
    assert f"{ALSO_ON}.web" in endpoint["Aliases"] and f"{beta['Id'][:12]}.{ALSO_ON}.web" in endpoint["Aliases"]
    assert engine.inspect_network(network)["Labels"][MANAGED_LABEL] == NETWORK
    by_address = f"http://{endpoint['IPAddress']}:{PORT}/"
    by_alias, by_name = f"http://{ALSO_ON}.web:{PORT}/", f"http://{namespace}{ALSO_ON}.web.1:{PORT}/"

    assert fetch(platform, ON, by_alias, by_name, by_address) == {by_alias: PAGE, by_name: PAGE, by_address: PAGE}
    refused = fetch(platform, OFF, by_alias, by_address)
    assert refused[by_alias] == "gaierror", refused  # the name is not known off the network
    assert refused[by_address] in ("timeout", "TimeoutError", "ConnectionRefusedError"), refused

    platform.dokku("network:set", "--global", "tld", "svc.cluster.local")
    platform.dokku("network:set", ALSO_ON, "attach-post-create")
    platform.dokku("network:set", ALSO_ON, "attach-post-deploy", NETWORK)
    platform.dokku("ps:restart", ALSO_ON)  # joined after its checks, before nginx moves to it
    wait_until_serving(platform, f"{ALSO_ON}.example.test", PAGE)
    with_tld = f"http://{ALSO_ON}.web.svc.cluster.local:{PORT}/"
    assert fetch(platform, ON, with_tld) == {with_tld: PAGE}
    assert "--network" not in platform.dokku("docker-options:report", ON).stdout  # network:set, not an option


def test_network_rebuild_puts_a_running_app_on_the_network_and_off_again(three_apps, engine):
    platform = three_apps
    namespace = platform.settings()["NAMESPACE"]
    network = f"{namespace}{NETWORK}"
    gamma_id = web(engine, platform, OFF)["Id"]
    by_alias = f"http://{OFF}.web:{PORT}/"
    assert fetch(platform, ON, by_alias)[by_alias] == "gaierror"

    platform.dokku("network:set", OFF, "attach-post-deploy", NETWORK)
    rebuilt = platform.dokku("network:rebuild", OFF)
    assert "Ensuring network configuration is in sync for gamma" in rebuilt.stdout
    assert web(engine, platform, OFF)["Id"] == gamma_id, "not restarted"
    assert f"{OFF}.web" in namespace_of(web(engine, platform, OFF))["NetworkSettings"]["Networks"][network]["Aliases"]
    assert fetch(platform, ON, by_alias) == {by_alias: PAGE}
    # the engine moved web's published port to the network sorting first: nginx follows it
    wait_until_serving(platform, f"{OFF}.example.test", PAGE)

    platform.dokku("network:set", OFF, "attach-post-deploy")
    platform.dokku("network:rebuild", OFF)
    assert network not in namespace_of(web(engine, platform, OFF))["NetworkSettings"]["Networks"]
    assert fetch(platform, ON, by_alias)[by_alias] == "gaierror"
    wait_until_serving(platform, f"{OFF}.example.test", PAGE)


def test_bind_all_interfaces_publishes_web_beyond_loopback_and_nginx_still_serves(three_apps, engine):
    platform = three_apps
    platform.dokku("network:set", OFF, "bind-all-interfaces", "true")
    platform.dokku("ps:restart", OFF)
    bindings = web(engine, platform, OFF)["HostConfig"]["PortBindings"][f"{PORT}/tcp"]
    [binding] = bindings
    assert binding["HostIp"] == "" and int(binding["HostPort"]) in host_ports.RANGE  # every interface, a kept port
    wait_until_serving(platform, f"{OFF}.example.test", PAGE)
    assert platform.dokku("network:report", OFF, "--network-computed-bind-all-interfaces").stdout == "true\n"
    assert web(engine, platform, ON)["HostConfig"]["PortBindings"][f"{PORT}/tcp"][0]["HostIp"] == "127.0.0.1"


def test_a_network_in_use_is_not_destroyed(three_apps, engine):
    platform = three_apps
    namespace = platform.settings()["NAMESPACE"]
    named = platform.dokku("network:destroy", NETWORK, "--force", check=False)
    assert (named.returncode, named.stderr) == (
        1,
        f" !     Unable to destroy network: the network properties of {ON}, {ALSO_ON} name {NETWORK}\n",
    )
    for app in (ON, ALSO_ON):
        platform.dokku("network:set", app, "attach-post-create")
    attached = platform.dokku("network:destroy", NETWORK, "--force", check=False)
    assert attached.returncode == 1 and "has containers attached" in attached.stderr, attached.stderr
    platform.dokku("ps:stop", ON)  # a stopped container still needs its network to start again
    platform.dokku("network:rebuild", ALSO_ON)
    still = platform.dokku("network:destroy", NETWORK, "--force", check=False)
    assert still.returncode == 1 and f"{namespace}{ON}.web.1" in still.stderr, still.stderr
    platform.dokku("network:rebuildall")
    assert platform.dokku("network:destroy", NETWORK, "--force").stdout == f"-----> Destroying network {NETWORK}\n"
    assert platform.dokku("network:exists", NETWORK, check=False).returncode == 1
    platform.dokku("ps:start", ON)
