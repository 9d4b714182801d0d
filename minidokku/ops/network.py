"""Networks between apps, as Dokku's network plugin: `network:create` makes a bridge network whose
containers reach each other, and `network:set` (records/network_settings.py) puts an app's
containers on it: created on it (`initial-network`), joined once created (`attach-post-create`) or
once a deploy serves (`attach-post-deploy`). There each process container is known as
`APP.PROCESS_TYPE` (with a `tld`, `APP.PROCESS_TYPE.TLD`), as `HOSTNAME.APP.PROCESS_TYPE`, and by
its container's name (`APP.web.1`), so `http://other.web:5000` reaches the other app's web.

Every other app container stays on the apps' network, where containers never reach each other
(runtime/isolation.py): a network of network:create is the one sanctioned way between apps, and
only an admin puts an app on one. A user key's app joins only networks made by network:create
(never minidokku's own, the host's, or one made by hand), and only those an admin set for that
app: the global values (and a global bind-all-interfaces) are not applied to it. What it does not
get is left out with one line, as docker-options are.

Names: users see and type a network's NAME; on the engine it is the platform's NAMESPACE and NAME
(a test root's networks never meet another's), labelled `com.dokku.network-name=NAME` (Dokku's
mark of the networks it manages) and `com.minidokku.network=network:create`.
"""

from dataclasses import dataclass, replace
from typing import Optional

from minidokku.access import rules
from minidokku.context import Context
from minidokku.errors import AlreadyExists, MinidokkuError, NotFound, ValidationError
from minidokku.ops import apps
from minidokku.output import Output
from minidokku.records import network_settings, ps_settings, releases
from minidokku.records.network_settings import (
    ATTACH_POST_CREATE,
    ATTACH_POST_DEPLOY,
    BIND_ALL_INTERFACES,
    INITIAL_NETWORK,
    NETWORK_KEYS,
    TLD,
)
from minidokku.runtime import labels
from minidokku.runtime.scheduler import Container, NetworkInfo, Networking

MANAGED_LABEL = "com.dokku.network-name"  # Dokku's: the networks its network:create made
CREATED = "network:create"  # the value of labels.NETWORK on them
OWN_LABELS = (labels.NETWORK, labels.SERVICE)  # minidokku's own networks carry one of these
# What a user key's app takes only from its own values, never the global ones: a network puts it
# beside every app there, and ports on every interface are reached from every container.
OWN_ONLY_FOR_TENANTS = (*NETWORK_KEYS, BIND_ALL_INTERFACES)


@dataclass(frozen=True)
class Network:
    """A network as network:list and network:info show it: name, the one users type."""

    name: str
    info: NetworkInfo
    managed: bool  # made by network:create (Dokku's DokkuManaged)

    @property
    def minidokkus_own(self) -> bool:
        """The apps', the services' or a postgres link network: never joined by network:set."""
        return not self.managed and any(label in self.info.labels for label in OWN_LABELS)

    def as_json(self) -> dict:
        """Dokku's fields and their order."""
        return {
            "CreatedAt": self.info.created,
            "DokkuManaged": self.managed,
            "Driver": self.info.driver,
            "ID": self.info.id[:12],
            "Internal": self.info.internal,
            "IPv6": self.info.ipv6,
            "Labels": self.info.labels,
            "Name": self.name,
            "Scope": self.info.scope,
        }


def engine_name(ctx: Context, name: str) -> str:
    return ctx.settings.namespace + name


def listed(ctx: Context) -> list[Network]:
    """The networks this platform sees (with a NAMESPACE, only those under it), by name."""
    namespace = ctx.settings.namespace
    found = [
        Network(name, info, info.labels.get(MANAGED_LABEL) == name)
        for info in ctx.scheduler.networks()
        if info.name.startswith(namespace) and (name := info.name[len(namespace) :])
    ]
    return sorted(found, key=lambda network: network.name)


def find(ctx: Context, name: str) -> Optional[Network]:
    network_settings.validate_network_name(name)
    return next((network for network in listed(ctx) if network.name == name), None)


def require(ctx: Context, name: str, missing: str = "Network does not exist") -> Network:
    """The network; NotFound, in Dokku's words (missing), when there is none."""
    found = find(ctx, name)
    if found is None:
        raise NotFound(missing)
    return found


def create(ctx: Context, name: str) -> None:
    network_settings.validate_new_network_name(name)
    if find(ctx, name) is not None:
        raise AlreadyExists(f"Unable to create network: a network named {name} exists already")
    ctx.out.step(f"Creating network {name}")
    ctx.scheduler.create_network(engine_name(ctx, name), {MANAGED_LABEL: name, labels.NETWORK: CREATED})


def destroy(ctx: Context, name: str) -> None:
    """Removes a network of network:create; refused while an app's properties name it or a
    container (a stopped one too, which could not start again without it) is on it."""
    network = require(ctx, name)
    if not network.managed:
        raise ValidationError(f"{name} was not made by network:create; network:destroy removes only those")
    naming = network_settings.apps_naming(ctx.store, apps.list_apps(ctx), name)
    if naming:
        raise ValidationError(f"Unable to destroy network: the network properties of {', '.join(naming)} name {name}")
    members = ctx.scheduler.network_members(network.info.name)
    if members:
        raise ValidationError(f"Unable to destroy network: {name} has containers attached ({', '.join(members)})")
    ctx.out.step(f"Destroying network {name}")
    ctx.scheduler.remove_network(network.info.name)


# -- network:set -------------------------------------------------------------------------------
def set_property(ctx: Context, app: Optional[str], key: str, words: list[str]) -> str:
    """`network:set APP|--global KEY [VALUE...]`; returns the value stored ("": unset). Each
    network named must exist and may be joined by the app (for --global: by an admin's app)."""
    if app is not None:
        apps.require(ctx, app)
    if not key:
        raise ValidationError("No property specified")
    value = network_settings.value_of(key, words)
    if key in NETWORK_KEYS:
        for name in network_settings.networks_in(value):
            refusal = _refusal(ctx, app, require(ctx, name, f"Network {name} does not exist"))
            if refusal:
                raise ValidationError(refusal)
    clash = network_settings.conflict(ctx.store, app, key, value)
    if clash:
        raise ValidationError(f"Network name already associated with this app: {clash}")
    network_settings.put(ctx.store, app, key, value)
    return value


def _refusal(ctx: Context, app: Optional[str], network: Network) -> str:
    """Why the app (None: every app) may not be put on the network; "" when it may."""
    if network.minidokkus_own:
        return f"{network.name} is one of minidokku's own networks; make one with network:create"
    if app is not None and not network.managed and rules.is_tenant_app(ctx.store, app):
        return f"{app} is a user key's app: it joins only networks made by network:create, not {network.name}"
    return ""


# -- what an app's containers get --------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """An app's network properties resolved for its containers: engine names, checked."""

    app: str
    initial: str = ""
    post_create: tuple[str, ...] = ()
    post_deploy: tuple[str, ...] = ()
    tld: str = ""
    all_interfaces: bool = False

    def alias(self, process_type: str) -> str:
        """Dokku's network alias of the app's process type: `APP.PROCESS_TYPE[.TLD]`."""
        return f"{self.app}.{process_type}" + (f".{self.tld}" if self.tld else "")

    def for_process(self, process_type: str) -> Networking:
        """A process container's: its aliases wherever it is put."""
        return Networking(self.initial, self.post_create, (self.alias(process_type),), self.all_interfaces)

    def for_one_off(self) -> Networking:
        """A release task's or one-off run's: on the same networks, under no alias (as Dokku)."""
        return Networking(self.initial, self.post_create)


def plan(ctx: Context, app: str, out: Optional[Output] = None) -> Plan:
    """The app's computed properties, its networks looked up on the engine (only when it has any):
    a missing one fails here, before any container is made. A user key's app gets the networks and
    bind-all-interfaces only from its own values (set by an admin for it): a global one would put
    every tenant's containers beside every other app's. What the app does not get is said on out
    (when given, once per deploy) in one line, as docker-options say theirs."""
    tenant = rules.is_tenant_app(ctx.store, app)
    values, left_out = {}, []
    for key in network_settings.KEYS:
        values[key] = network_settings.computed(ctx.store, app, key)
        if tenant and key in OWN_ONLY_FOR_TENANTS and not network_settings.own(ctx.store, app, key):
            values[key] = network_settings.DEFAULTS.get(key, "")
            global_value = network_settings.own(ctx.store, None, key)
            if global_value and global_value != values[key]:
                left_out.append(f"--global {key} {global_value}")
    chosen = Plan(app, tld=values[TLD], all_interfaces=values[BIND_ALL_INTERFACES] == "true")
    named = {key: network_settings.networks_in(values[key]) for key in NETWORK_KEYS}
    keep: dict[str, tuple[str, ...]] = {key: () for key in NETWORK_KEYS}
    if any(named.values()):
        known = {network.name: network for network in listed(ctx)}
        for key, names in named.items():
            for name in names:
                network = known.get(name)
                if network is None:
                    raise NotFound(f"Network {name} does not exist")
                if _refusal(ctx, app, network):
                    left_out.append(f"{key} {name} ({_reason(network)})")
                else:
                    keep[key] += (network.info.name,)
    if left_out and out is not None:
        whose = f"{app}, a user key's app" if tenant else app
        out.info(f"Not applied to {whose}: {', '.join(left_out)}")
    initial = keep[INITIAL_NETWORK][0] if keep[INITIAL_NETWORK] else ""
    return replace(chosen, initial=initial, post_create=keep[ATTACH_POST_CREATE], post_deploy=keep[ATTACH_POST_DEPLOY])


def _reason(network: Network) -> str:
    return "one of minidokku's own networks" if network.minidokkus_own else "not made by network:create"


def networking(ctx: Context, app: str, process_type: str = "") -> Networking:
    """What one container of the app gets: a process's (with its aliases), or with no
    process_type a release task's or one-off run's (saying what the app does not get)."""
    chosen = plan(ctx, app, ctx.out)
    return chosen.for_process(process_type) if process_type else chosen.for_one_off()


def attach_post_deploy(ctx: Context, app: str, containers: list[Container]) -> list[Container]:
    """The deploy's new process containers join the attach-post-deploy networks once their checks
    passed, before nginx moves to them (as Dokku's docs say); returns them as they are now."""
    chosen = plan(ctx, app)
    for network in chosen.post_deploy:
        ctx.out.step(f"Associating app with network {network.removeprefix(ctx.settings.namespace)}")
        containers = [
            ctx.scheduler_for(app).join_network(container, network, (chosen.alias(container.process_type),))
            for container in containers
        ]
    return containers


# -- network:rebuild ---------------------------------------------------------------------------
def rebuild(ctx: Context, app: str) -> None:
    """Brings the app's process containers in line with its properties without a restart: they
    join the attach-* networks they are not on and leave the networks of network:create they are
    no longer set to be on. The network a container was created on stays until it is replaced
    (a deploy, ps:restart or ps:rebuild), as does where web publishes its ports."""
    apps.require(ctx, app)
    if releases.current(ctx.store, app) is None:
        return
    with ctx.store.lock(app):
        chosen = plan(ctx, app, ctx.out)
        wanted = (*chosen.post_create, *chosen.post_deploy)
        managed = {network.info.name for network in listed(ctx) if network.managed}
        ctx.out.step(f"Ensuring network configuration is in sync for {app}")
        moved = False
        scheduler = ctx.scheduler_for(app)
        try:
            for container in scheduler.running(ctx.docker_name(app)):
                on = scheduler.joined_networks(container)
                for network in wanted:
                    if network not in on:
                        ctx.out.info(f"{container.dyno} joins {network.removeprefix(ctx.settings.namespace)}")
                        moved = moved or container.process_type == "web"
                        scheduler.join_network(container, network, (chosen.alias(container.process_type),))
                for network in on:
                    if network in managed and network not in wanted:
                        ctx.out.info(f"{container.dyno} leaves {network.removeprefix(ctx.settings.namespace)}")
                        moved = moved or container.process_type == "web"
                        scheduler.leave_network(container, network)
        finally:  # web's ports may have moved, even when a later join failed: nginx follows them
            if moved and not ps_settings.is_stopped(ctx.store, app):
                ctx.proxy.route(app, scheduler.web_containers(ctx.docker_name(app)))


def rebuild_all(ctx: Context) -> list[str]:
    """rebuild() for every app; returns the apps it failed for (each said in one line)."""
    failed = []
    for app in apps.list_apps(ctx):
        try:
            rebuild(ctx, app)
        except MinidokkuError as error:
            ctx.out.info(f"{app}: {error}")
            failed.append(app)
    return failed


def web_listeners(ctx: Context, app: str) -> str:
    """Where nginx reaches the app's web containers (`ADDRESS:PORT ...`)."""
    web = ctx.scheduler_for(app).web_containers(ctx.docker_name(app))
    return " ".join(f"{host}:{port}" for c in web if (where := c.reached_at()) for host, port in [where])
