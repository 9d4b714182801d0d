from types import SimpleNamespace

import pytest

from minidokku.build.builders.buildpacks import cache_volume
from minidokku.errors import ValidationError
from minidokku.plugins.postgres import records as postgres_records
from minidokku.records import docker_options

CA = "/etc/ssl/certs/ca-certificates.crt"


def test_network_and_volume_on_one_line():
    options = docker_options.parse([f"--network=host -v {CA}:{CA}:ro"])
    assert options.network == "host"
    assert options.binds == [f"{CA}:{CA}:ro"]


def test_every_supported_flag_is_translated():
    options = docker_options.parse(
        [
            "--add-host a:1.2.3.4",
            "-e K=V",
            "--env 'GREETING=hello world'",
            "--label a=b",
            "-l c=d=e",
            "--memory 512m",
            "--cpus 1.5",
            "--restart on-failure:10",
            "--build-arg K=V",
            "--volume /data:/data",
            "--net bridge",
        ]
    )
    assert options.extra_hosts == ["a:1.2.3.4"]
    assert options.env == ["K=V", "GREETING=hello world"]
    assert options.labels == {"a": "b", "c": "d=e"}
    assert options.memory == 536870912
    assert options.nano_cpus == 1500000000
    assert options.restart == {"Name": "on-failure", "MaximumRetryCount": 10}
    assert options.build_args == {"K": "V"}
    assert options.binds == ["/data:/data"]
    assert options.network == "bridge"


def test_a_later_line_wins_for_single_valued_options():
    options = docker_options.parse(["--memory 1g --network a", "-m 256m", "--network=b"])
    assert (options.memory, options.network) == (256 * 1024**2, "b")


@pytest.mark.parametrize(
    ("text", "size"),
    [("100", 100), ("100b", 100), ("4k", 4096), ("512m", 536870912), ("512mb", 536870912), ("1.5g", 1610612736)],
)
def test_sizes_are_parsed_with_binary_units(text, size):
    assert docker_options.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "m", "-1m", "12t", "1.2.3m", "ten"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(ValidationError):
        docker_options.parse_size(text)


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("no", {"Name": ""}),
        ("always", {"Name": "always"}),
        ("unless-stopped", {"Name": "unless-stopped"}),
        ("on-failure", {"Name": "on-failure"}),
        ("on-failure:3", {"Name": "on-failure", "MaximumRetryCount": 3}),
    ],
)
def test_restart_policies(text, policy):
    assert docker_options.parse_restart_policy(text) == policy


@pytest.mark.parametrize("text", ["sometimes", "always:3", "on-failure:x", ""])
def test_bad_restart_policies_are_refused(text):
    with pytest.raises(ValidationError):
        docker_options.parse_restart_policy(text)


@pytest.mark.parametrize(
    "line",
    [
        "--privileged",
        "--pid=host",
        "--cap-add ALL",
        "-v /a:/b --privileged",
        "--security-opt seccomp=unconfined",
        "-it",
        "image-name",
    ],
)
def test_unsupported_flags_are_refused(line):
    with pytest.raises(ValidationError, match="unsupported"):
        docker_options.parse([line])


@pytest.mark.parametrize("line", ["--memory", "-v", "--network", "-e K=V --label"])
def test_a_flag_missing_its_value_is_refused(line):
    with pytest.raises(ValidationError, match="needs a value"):
        docker_options.parse([line])


@pytest.mark.parametrize(
    "line",
    ["-v /data", "--add-host nohost", "-e NOEQUALS", "--build-arg NOEQUALS", "--cpus lots", "--memory big", "-v '/a"],
)
def test_malformed_values_are_refused(line):
    with pytest.raises(ValidationError):
        docker_options.parse([line])


def test_apply_merges_without_dropping_existing_entries():
    config = {
        "Image": "dokku/app",
        "Env": ["PORT=5000"],
        "Labels": {"com.dokku.app": "app", "a": "old"},
        "HostConfig": {"Binds": ["cache:/cache"], "ExtraHosts": ["x:1.1.1.1"], "PortBindings": {"5000/tcp": []}},
    }
    options = docker_options.parse(
        [f"-v {CA}:{CA}:ro --network=host --add-host a:1.2.3.4 -e K=V --label a=b -m 512m --cpus 2 --restart always"]
    )
    merged = options.apply(config)
    assert merged["Image"] == "dokku/app"
    assert merged["Env"] == ["PORT=5000", "K=V"]
    assert merged["Labels"] == {"com.dokku.app": "app", "a": "b"}
    assert merged["HostConfig"] == {
        "Binds": ["cache:/cache", f"{CA}:{CA}:ro"],
        "ExtraHosts": ["x:1.1.1.1", "a:1.2.3.4"],
        "PortBindings": {"5000/tcp": []},
        "NetworkMode": "host",
        "Memory": 536870912,
        "NanoCpus": 2000000000,
        "RestartPolicy": {"Name": "always"},
    }


def test_apply_leaves_the_given_config_untouched():
    config = {"Env": ["A=1"], "Labels": {"a": "1"}, "HostConfig": {"Binds": ["x:/x"]}}
    snapshot = repr(config)
    docker_options.parse(["-v /y:/y -e B=2 --label b=2 --network host"]).apply(config)
    assert repr(config) == snapshot


def test_empty_options_apply_as_a_no_op():
    config = {"Image": "i", "HostConfig": {"Binds": ["x:/x"]}}
    assert docker_options.parse([]).apply(config) == config


def test_validate_phases():
    assert docker_options.validate_phases("build,deploy") == ["build", "deploy"]
    assert docker_options.validate_phases(" run , deploy ") == ["run", "deploy"]


@pytest.mark.parametrize("text", ["", ",", "build,release", "Deploy", "all"])
def test_bad_phases_are_refused(text):
    with pytest.raises(ValidationError):
        docker_options.validate_phases(text)


def test_cpus_are_converted_exactly():
    assert docker_options.parse(["--cpus 2.01"]).nano_cpus == 2010000000


@pytest.mark.parametrize("value", ["inf", "1e400"])
def test_infinite_cpus_are_refused(value):
    with pytest.raises(ValidationError):
        docker_options.parse([f"--cpus {value}"])


# -- what a tenant's app may get (confine) ------------------------------------------------------
@pytest.mark.parametrize(
    "line",
    [
        "--network=host",
        "--net=host",
        "--network host",
        "--net HOST",
        "--network=container:victim.web.1",
        "--network=3f2a9c",  # an id, or an id prefix, may be the host network's
        "--network my-services",  # a named network: other apps may be on it
        "--network backend",  # one of network:create, which network:set alone puts apps on
        "--network minidokku-services",  # the postgres servers'
        "--network test-1-minidokku-apps",
        "--network dokku.postgres.links.victim",  # another app's link network, its database on it
        "--network t-dokku.postgres.links.other-victim",
        "-v /:/host",
        "-v /var/run/docker.sock:/var/run/docker.sock",
        f"-v {CA}:{CA}",  # the CA bundle, writable
        f"-v {CA}:{CA}:rw",
        f"-v {CA}:{CA}:ro,rw",
        "-v /etc/ssl/certs:/etc/ssl/certs:ro",  # the folder is not the bundle
        "-v minidokku-cache-victim:/cache",
        "-v test-1-dokku.postgres.db:/data",
    ],
)
def test_confine_leaves_out_what_reaches_the_host_or_another_app(line):
    options = docker_options.parse([line])
    confined, dropped = docker_options.confine(options)
    assert (confined.network, confined.binds) == (None, [])
    assert len(dropped) == 1 and dropped[0].split(" ", 1)[1] in line


@pytest.mark.parametrize(
    "line",
    [
        f"-v {CA}:{CA}:ro",
        f"-v {CA}:/usr/local/share/ca.crt:ro,z",
        "-v catmeow-data:/data",
        "--network none",
        "--add-host pypi.org:151.101.0.223",
        "-e K=V -m 512m --cpus 1 --restart always --label a=b --build-arg B=x",
    ],
)
def test_confine_keeps_what_stays_inside_the_container(line):
    options = docker_options.parse([line])
    assert docker_options.confine(options) == (options, [])


@pytest.mark.parametrize("namespace", ["", "t-1-"])
def test_confine_keeps_the_apps_own_postgres_link_network_by_its_exact_name_only(namespace):
    network = f"{namespace}dokku.postgres.links.victim"
    options = docker_options.parse([f"--network {network}"])
    assert docker_options.confine(options, "victim", namespace) == (options, [])
    assert docker_options.confine(options, "tim", namespace)[1] == [f"--network {network}"]
    assert docker_options.confine(options, None, namespace)[1] == [f"--network {network}"]


@pytest.mark.parametrize(
    "network",
    [
        "t-2-dokku.postgres.links.victim",  # another root's link network of a same-named app
        "xdokku.postgres.links.victim",  # a name made by hand that ends the same way
        "container:evil.dokku.postgres.links.victim",  # another container's network namespace
        "container:t-1-dokku.postgres.links.victim",
    ],
)
def test_confine_refuses_a_network_that_only_ends_like_the_apps_link_network(network):
    options = docker_options.parse([f"--network {network}"])
    assert docker_options.confine(options, "victim", "t-1-")[1] == [f"--network {network}"]


@pytest.mark.parametrize("network", ["bridge", "default"])
def test_confine_refuses_the_engines_default_bridge_where_every_tenant_reaches_every_other(network):
    """docker0 has inter-container traffic on: a global --network bridge would put every tenant
    app beside every other one, bypassing nginx."""
    options = docker_options.parse([f"--network {network}"])
    assert docker_options.confine(options, "victim")[1] == [f"--network {network}"]


def test_confine_keeps_the_rest_of_a_line_and_names_each_dropped_flag():
    options = docker_options.parse([f"--network=host -v {CA}:{CA}:ro -v /srv:/srv -e K=V -m 1g"])
    confined, dropped = docker_options.confine(options)
    assert dropped == ["--network host", "-v /srv:/srv"]
    assert confined.binds == [f"{CA}:{CA}:ro"]
    assert (confined.network, confined.env, confined.memory) == (None, ["K=V"], 1024**3)
    assert options.network == "host"  # the given options are left as they were


def test_confine_catches_the_volumes_minidokku_really_makes():
    ctx = SimpleNamespace(settings=SimpleNamespace(namespace="t-"))
    for volume in (cache_volume("t-victim"), postgres_records.volume_name(ctx, "catdb")):
        assert docker_options.confine(docker_options.parse([f"-v {volume}:/x"]))[1] == [f"-v {volume}:/x"]


@pytest.mark.parametrize(
    "line",
    ["--mount type=bind,src=/,dst=/host", "--volumes-from victim.web.1", "--device /dev/sda", "--ipc=host",
     "--uts=host", "--userns=host", "--cap-add=SYS_ADMIN", "--privileged=true"],
)  # fmt: skip
def test_flags_that_hand_over_the_host_are_unknown_so_refused(line):
    with pytest.raises(ValidationError, match="unsupported"):
        docker_options.parse([line])


@pytest.mark.parametrize("label", ["com.dokku.app-name=victim", "com.dokku.role=build", "COM.MINIDOKKU.service=x"])
def test_labels_minidokku_finds_containers_by_are_refused(label):
    with pytest.raises(ValidationError, match="minidokku's own"):
        docker_options.parse([f"--label {label}"])
