import pytest

from minidokku import dockeroptions
from minidokku.errors import ValidationError

CA = "/etc/ssl/certs/ca-certificates.crt"


def test_network_and_volume_on_one_line():
    options = dockeroptions.parse([f"--network=host -v {CA}:{CA}:ro"])
    assert options.network == "host"
    assert options.binds == [f"{CA}:{CA}:ro"]


def test_every_supported_flag_is_translated():
    options = dockeroptions.parse(
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
    options = dockeroptions.parse(["--memory 1g --network a", "-m 256m", "--network=b"])
    assert (options.memory, options.network) == (256 * 1024**2, "b")


@pytest.mark.parametrize(
    ("text", "size"),
    [("100", 100), ("100b", 100), ("4k", 4096), ("512m", 536870912), ("512mb", 536870912), ("1.5g", 1610612736)],
)
def test_sizes_are_parsed_with_binary_units(text, size):
    assert dockeroptions.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "m", "-1m", "12t", "1.2.3m", "ten"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(ValidationError):
        dockeroptions.parse_size(text)


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
    assert dockeroptions.parse_restart_policy(text) == policy


@pytest.mark.parametrize("text", ["sometimes", "always:3", "on-failure:x", ""])
def test_bad_restart_policies_are_refused(text):
    with pytest.raises(ValidationError):
        dockeroptions.parse_restart_policy(text)


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
        dockeroptions.parse([line])


@pytest.mark.parametrize("line", ["--memory", "-v", "--network", "-e K=V --label"])
def test_a_flag_missing_its_value_is_refused(line):
    with pytest.raises(ValidationError, match="needs a value"):
        dockeroptions.parse([line])


@pytest.mark.parametrize(
    "line",
    ["-v /data", "--add-host nohost", "-e NOEQUALS", "--build-arg NOEQUALS", "--cpus lots", "--memory big", "-v '/a"],
)
def test_malformed_values_are_refused(line):
    with pytest.raises(ValidationError):
        dockeroptions.parse([line])


def test_apply_merges_without_dropping_existing_entries():
    config = {
        "Image": "dokku/app",
        "Env": ["PORT=5000"],
        "Labels": {"com.dokku.app": "app", "a": "old"},
        "HostConfig": {"Binds": ["cache:/cache"], "ExtraHosts": ["x:1.1.1.1"], "PortBindings": {"5000/tcp": []}},
    }
    options = dockeroptions.parse(
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
    dockeroptions.parse(["-v /y:/y -e B=2 --label b=2 --network host"]).apply(config)
    assert repr(config) == snapshot


def test_empty_options_apply_as_a_no_op():
    config = {"Image": "i", "HostConfig": {"Binds": ["x:/x"]}}
    assert dockeroptions.parse([]).apply(config) == config


def test_validate_phases():
    assert dockeroptions.validate_phases("build,deploy") == ["build", "deploy"]
    assert dockeroptions.validate_phases(" run , deploy ") == ["run", "deploy"]


@pytest.mark.parametrize("text", ["", ",", "build,release", "Deploy", "all"])
def test_bad_phases_are_refused(text):
    with pytest.raises(ValidationError):
        dockeroptions.validate_phases(text)


def test_cpus_are_converted_exactly():
    assert dockeroptions.parse(["--cpus 2.01"]).nano_cpus == 2010000000


@pytest.mark.parametrize("value", ["inf", "1e400"])
def test_infinite_cpus_are_refused(value):
    with pytest.raises(ValidationError):
        dockeroptions.parse([f"--cpus {value}"])
