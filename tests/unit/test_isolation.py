"""The create request every app container gets (isolation.container_config)."""

from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions, parse
from minidokku.runtime import isolation

NETWORK = "test-ab12cd-minidokku-apps"


def config_for(options: DockerOptions) -> dict:
    config = {"Image": "app", "HostConfig": {"Init": True, "Binds": ["cache:/cache"]}}
    return isolation.container_config(config, options, resources.PROCESS_DEFAULTS, NETWORK)


def test_a_container_goes_on_the_apps_network_without_net_raw_mknod_and_new_privileges():
    host = config_for(DockerOptions())["HostConfig"]
    assert host["NetworkMode"] == NETWORK
    assert host["CapDrop"] == ["NET_RAW", "MKNOD"]
    assert host["SecurityOpt"] == ["no-new-privileges"]


def test_limits_and_the_callers_own_fields_are_kept():
    host = config_for(parse(["-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro"]))[
        "HostConfig"
    ]
    assert host["Init"] is True
    assert host["Binds"] == ["cache:/cache", "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro"]
    assert host["Memory"] == resources.PROCESS_DEFAULTS.memory and host["PidsLimit"] == resources.PROCESS_DEFAULTS.pids


def test_a_network_named_in_docker_options_wins_but_the_hardening_stays():
    host = config_for(parse(["--network bridge"]))["HostConfig"]
    assert host["NetworkMode"] == "bridge"
    assert host["CapDrop"] == ["NET_RAW", "MKNOD"] and host["SecurityOpt"] == ["no-new-privileges"]


def test_the_network_name_carries_the_namespace_so_test_roots_do_not_share_it():
    assert isolation.network_name("") == "minidokku-apps"
    assert isolation.network_name("test-ab12cd-") == "test-ab12cd-minidokku-apps"


def test_the_apps_network_has_inter_container_traffic_off():
    assert isolation.NETWORK_OPTIONS == {"com.docker.network.bridge.enable_icc": "false"}
