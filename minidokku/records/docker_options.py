"""docker-options: docker CLI flags per phase (build, deploy, run), stored as users type them
(global in ROOT/DOCKER_OPTIONS_*, per app in APP/DOCKER_OPTIONS_*) and translated into Engine API
fields.

A flag this module does not know is refused when it is added, never silently dropped at deploy;
the flags that would hand a container the host (--privileged, --pid=host, --cap-add, --device,
--mount, --volumes-from, ...) are not known.

`for_phase` is the one place that decides what an app's containers get (builds, processes, release
tasks, one-off runs): a tenant's app (granted to a user key) gets its options confined
(`confine`): what would reach the host is left out with one warning line, whoever set it (a
global option, a plugin's docker-args, an app option from before the app was granted). An admin
adding such an option to a tenant's app is refused at once.
"""

import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Optional

from minidokku.access import rules
from minidokku.errors import ValidationError
from minidokku.output import Output
from minidokku.records import storage
from minidokku.records.names import parse_size
from minidokku.state import Store

PHASES = ("build", "deploy", "run")
RESTART_PATTERN = re.compile(r"^(no|always|unless-stopped|on-failure(:\d+)?)$")

# flag spellings -> canonical name; every one of these takes a value
FLAGS = {
    "-v": "volume", "--volume": "volume",
    "--network": "network", "--net": "network",
    "--add-host": "add-host",
    "-e": "env", "--env": "env",
    "-l": "label", "--label": "label",
    "-m": "memory", "--memory": "memory",
    "--cpus": "cpus",
    "--restart": "restart",
    "--build-arg": "build-arg",
}  # fmt: skip
# Label names minidokku finds its containers by (runtime/labels.py): an option may not set them.
RESERVED_LABEL_PREFIXES = ("com.dokku.", "com.minidokku.")

# What confine lets a tenant's app keep: no network, or the app's own postgres link network by its
# exact name (postgres/records.py link_network_name: NAMESPACE, this, the app); never a network
# other apps may be on: the engine's default bridge (inter-container traffic on, so every tenant
# there reaches every other), one of network:create (only network:set puts an app on one), the
# services', another app's link network, the host's or another container's (`container:ID`).
NETWORKS_FOR_TENANTS = ("none",)
OWN_LINK_NETWORK = "dokku.postgres.links."
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")  # read-only
# Named volumes minidokku makes for an app or a service (builders/buildpacks.py cache_volume,
# postgres/records.py volume_name): one tenant's options never mount them.
RESERVED_VOLUME_MARKERS = ("minidokku-cache-", "dokku.postgres.")


@dataclass
class DockerOptions:
    """The Engine-API meaning of a list of docker-options lines."""

    binds: list[str] = field(default_factory=list)
    network: Optional[str] = None
    extra_hosts: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    memory: Optional[int] = None
    nano_cpus: Optional[int] = None
    restart: Optional[dict[str, object]] = None
    build_args: dict[str, str] = field(default_factory=dict)

    def apply(self, config: dict) -> dict:
        """Returns a container-create config with these options merged in (later wins)."""
        host = dict(config.get("HostConfig", {}))
        if self.binds:
            host["Binds"] = list(host.get("Binds", [])) + self.binds
        if self.network:
            host["NetworkMode"] = self.network
        if self.extra_hosts:
            host["ExtraHosts"] = list(host.get("ExtraHosts", [])) + self.extra_hosts
        if self.memory is not None:
            host["Memory"] = self.memory
        if self.nano_cpus is not None:
            host["NanoCpus"] = self.nano_cpus
        if self.restart is not None:
            host["RestartPolicy"] = self.restart
        merged = dict(config, HostConfig=host)
        if self.env:
            merged["Env"] = list(config.get("Env", [])) + self.env
        if self.labels:
            merged["Labels"] = dict(config.get("Labels", {}), **self.labels)
        return merged


def confine(options: DockerOptions, app: Optional[str] = None, namespace: str = "") -> tuple[DockerOptions, list[str]]:
    """What a tenant's app (None: any) may get of options, and the options left out (as docker
    flags): no network but NETWORKS_FOR_TENANTS and its own link network (under the platform's
    namespace), no host path but a CA bundle read-only, no named volume of minidokku's own."""
    dropped = []
    network = options.network
    if network is not None and not _network_for_tenants(network, app, namespace):
        dropped.append(f"--network {network}")
        network = None
    binds = []
    for bind in options.binds:
        if _bind_for_tenants(bind):
            binds.append(bind)
        else:
            dropped.append(f"-v {bind}")
    return replace(options, network=network, binds=binds), dropped


def _network_for_tenants(network: str, app: Optional[str], namespace: str) -> bool:
    return network in NETWORKS_FOR_TENANTS or (app is not None and network == f"{namespace}{OWN_LINK_NETWORK}{app}")


def _bind_for_tenants(bind: str) -> bool:
    source, _, rest = bind.partition(":")
    modes = rest.partition(":")[2].split(",")
    if source.startswith("/"):
        return source in CA_BUNDLES and "ro" in modes and "rw" not in modes
    return not any(marker in source for marker in RESERVED_VOLUME_MARKERS)


def validate_phases(text: str) -> list[str]:
    phases = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in phases if p not in PHASES]
    if not phases or unknown:
        raise ValidationError(f"invalid phase {text!r}: use one or more of {', '.join(PHASES)}, comma-separated")
    return phases


def parse(lines: list[str]) -> DockerOptions:
    options = DockerOptions()
    for line in lines:
        _parse_line(line, options)
    return options


def _parse_line(line: str, options: DockerOptions) -> None:
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise ValidationError(f"cannot parse docker option {line!r}: {error}") from None
    index = 0
    while index < len(words):
        word = words[index]
        flag, has_value, value = word.partition("=") if word.startswith("--") else (word, False, "")
        if flag not in FLAGS:
            raise ValidationError(f"unsupported docker option {word!r}; supported: {', '.join(sorted(set(FLAGS)))}")
        if not has_value:
            index += 1
            if index >= len(words):
                raise ValidationError(f"docker option {flag} needs a value")
            value = words[index]
        _set(options, FLAGS[flag], value)
        index += 1


def _set(options: DockerOptions, name: str, value: str) -> None:
    if name == "volume":
        if ":" not in value:
            raise ValidationError(f"volume {value!r} must be SOURCE:TARGET[:OPTIONS]")
        options.binds.append(value)
    elif name == "network":
        options.network = value
    elif name == "add-host":
        if ":" not in value:
            raise ValidationError(f"add-host {value!r} must be HOST:IP")
        options.extra_hosts.append(value)
    elif name == "env":
        if "=" not in value:
            raise ValidationError(f"env {value!r} must be KEY=VALUE")
        options.env.append(value)
    elif name == "label":
        key, _, label_value = value.partition("=")
        if key.lower().startswith(RESERVED_LABEL_PREFIXES):
            raise ValidationError(f"label {key!r} is minidokku's own (it finds containers by it)")
        options.labels[key] = label_value
    elif name == "memory":
        options.memory = parse_size(value)
    elif name == "cpus":
        options.nano_cpus = parse_cpus(value)
    elif name == "restart":
        options.restart = parse_restart_policy(value)
    elif name == "build-arg":
        key, sep, arg_value = value.partition("=")
        if not sep:
            raise ValidationError(f"build-arg {value!r} must be KEY=VALUE")
        options.build_args[key] = arg_value


def parse_cpus(text: str) -> int:
    """CPUs as docker counts them: a positive number, in billionths (NanoCpus)."""
    try:
        cpus = float(text)
    except ValueError:
        cpus = math.nan
    if not math.isfinite(cpus) or cpus <= 0 or cpus > 1024:
        raise ValidationError(f"cpus {text!r} must be a positive number of CPUs")
    return round(cpus * 1e9)


def parse_restart_policy(text: str) -> dict[str, object]:
    if not RESTART_PATTERN.match(text):
        raise ValidationError(f"restart policy {text!r} must be no, always, unless-stopped or on-failure[:N]")
    name, _, count = text.partition(":")
    policy: dict[str, object] = {"Name": "" if name == "no" else name}
    if count:
        policy["MaximumRetryCount"] = int(count)
    return policy


# -- the stored options ------------------------------------------------------------------------
def file_name(phase: str) -> str:
    return f"DOCKER_OPTIONS_{phase.upper()}"


def lines(store: Store, app: Optional[str], phase: str) -> list[str]:
    return store.read_lines(app, file_name(phase))


def add(store: Store, app: Optional[str], phases: list[str], option: str) -> list[str]:
    """Stores the option; returns what of it user keys' apps will not get (a global option's)."""
    options = parse([option])  # refuse an unsupported flag now, not at the next deploy
    _, dropped = confine(options, app)
    if dropped and app is not None and rules.is_tenant_app(store, app):
        raise ValidationError(
            f"{app} is a user key's app: it cannot get {', '.join(dropped)} (no host network or other apps' "
            "networks, no host paths)"
        )
    for phase in phases:
        current = lines(store, app, phase)
        if option.strip() not in current:
            store.write_lines(app, file_name(phase), current + [option.strip()])
    return dropped


def remove(store: Store, app: Optional[str], phases: list[str], option: str) -> None:
    for phase in phases:
        store.write_lines(app, file_name(phase), [line for line in lines(store, app, phase) if line != option.strip()])


def clear(store: Store, app: Optional[str], phases: list[str]) -> None:
    for phase in phases:
        store.remove(app, file_name(phase))


def stored_lines(store: Store, app: Optional[str], phase: str) -> list[str]:
    """The phase's stored options a container of the app gets: the global ones, then the app's."""
    return lines(store, None, phase) + (lines(store, app, phase) if app is not None else [])


def for_phase(
    store: Store,
    app: Optional[str],
    phase: str,
    plugin_args: Sequence[str] = (),
    out: Optional[Output] = None,
    stored: Optional[list[str]] = None,
    namespace: str = "",
    process_type: Optional[str] = None,
) -> DockerOptions:
    """What a container of the phase gets: the global options, the app's, then plugin_args (what
    plugins printed for a docker-args-* trigger); a later one wins where two set a value. A
    tenant's app gets them confined, saying on out (when given) what was left out. Without an app
    (a container of minidokku's own, such as a service's image build): the global options.
    stored: stored_lines() read once by a caller starting many containers (a deploy). namespace:
    the platform's (settings.namespace), which the app's own link network's name starts with. Then
    the app's storage mounts for a container of process_type (None: `run` for the run phase; in the
    deploy phase, only the mounts of every process type), which storage.binds confines itself."""
    options = parse((stored_lines(store, app, phase) if stored is None else stored) + list(plugin_args))
    if app is not None and rules.is_tenant_app(store, app):
        options, dropped = confine(options, app, namespace)
        if dropped and out is not None:
            out.info(f"Not applied to {app}, a user key's app: {', '.join(dropped)}")
    if app is None:
        return options
    mounts = storage.binds(store, app, phase, process_type or ("run" if phase == "run" else None), out)
    return replace(options, binds=[*options.binds, *mounts]) if mounts else options
