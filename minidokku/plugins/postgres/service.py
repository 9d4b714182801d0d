"""PostgreSQL services, as dokku-postgres has them: a container per service with its data in a
named volume, reached by linked apps over a private network (no published port).

`link` sets DATABASE_URL on the app (DOKKU_POSTGRES_<COLOR>_URL when it has one already) and
deploys it with that config; its containers join the app's own link network, where the services
linked to it are too, through the bundled plugin's docker-args hooks (hooks.py): a linked app
reaches its databases and never another app's containers. The container restarts with dockerd (unless-stopped), so
the data and the service outlive container restarts, redeploys and a dockerd restart.
"""

import secrets
import time
from dataclasses import dataclass

from minidokku.context import Context
from minidokku.errors import AlreadyExists, DeployFailed, NotFound, ValidationError
from minidokku.ops import config
from minidokku.plugins.postgres import image, records
from minidokku.plugins.postgres.records import Link
from minidokku.records import docker_options
from minidokku.runtime import labels
from minidokku.runtime.scheduler import Service

DEFAULT_VERSION = image.DEBIAN_VERSION
READY_TIMEOUT = 60  # seconds for a new or restarted server to accept connections


@dataclass(frozen=True)
class Info:
    name: str
    version: str
    status: str
    container_id: str
    internal_ip: str
    links: list[Link]
    dsn: str  # with the password masked; dsn(store, name) has it


def create(ctx: Context, name: str, version: str = DEFAULT_VERSION) -> None:
    records.validate_name(name)
    if records.exists(ctx.store, name):
        raise AlreadyExists(f"Postgres service {name} already exists")
    build_options = docker_options.for_phase(ctx.store, None, "build")
    reference = image.ensure_image(ctx.engine, ctx.out, version, build_options)
    password = secrets.token_hex(16)
    try:
        container_id = ctx.scheduler.start_service(_service(ctx, name, reference, password))
        _wait_until_ready(ctx, name, container_id)
        folder = records.folder(name)
        ctx.store.write(None, f"{folder}/IMAGE", reference + "\n")
        ctx.store.write(None, f"{folder}/PASSWORD", password + "\n", mode=0o600)  # written last: it means "exists"
    except BaseException:
        _remove_everything(ctx, name)
        raise
    ctx.out.section(f"Postgres container created: {name}")


def info(ctx: Context, name: str) -> Info:
    records.require(ctx.store, name)
    state = ctx.scheduler.service_state(records.container_name(ctx, name))
    return Info(
        name=name,
        version=records.image(ctx.store, name),
        status=state.status if state else "missing",
        container_id=state.id if state else "",
        internal_ip=state.addresses.get(records.network_name(ctx), "") if state else "",
        links=records.links(ctx.store, name),
        dsn=records.dsn(ctx.store, name, shown_password="********"),
    )


def link(ctx: Context, name: str, app: str) -> str:
    """Links the service to the app and deploys the app with its URL; returns the variable."""
    records.require(ctx.store, name)
    if records.link_of(ctx.store, name, app):
        raise AlreadyExists(f"Postgres service {name} is already linked to {app}")
    variable = records.next_variable(ctx.store.read_env(app))
    before = records.links(ctx.store, name)
    records.write_links(ctx.store, name, [*before, Link(app, variable)])
    ctx.out.step(f"Linking postgres service {name} to {app} as {variable}")
    try:
        config.set_vars(ctx, app, [f"{variable}={records.dsn(ctx.store, name)}"])
    except BaseException:
        records.write_links(ctx.store, name, before)
        raise
    return variable


def unlink(ctx: Context, name: str, app: str) -> None:
    records.require(ctx.store, name)
    found = records.link_of(ctx.store, name, app)
    if found is None:
        raise NotFound(f"Postgres service {name} is not linked to {app}")
    before = records.links(ctx.store, name)
    records.write_links(ctx.store, name, [other for other in before if other.app != app])
    ctx.out.step(f"Unlinking postgres service {name} from {app}")
    try:
        config.unset_vars(ctx, app, [found.variable])
    except BaseException:
        records.write_links(ctx.store, name, before)
        raise
    leave_link_network(ctx, name, app)


def link_network(ctx: Context, app: str) -> str:
    """The app's link network (records.link_network_name), made if need be, with every service
    linked to the app on it under its hostname; a service whose container is missing is left out."""
    network = records.link_network_name(ctx, app)
    ctx.scheduler.ensure_network(network, {labels.SERVICE: "postgres", labels.APP: ctx.docker_name(app)})
    for name in records.services_linked_to(ctx.store, app):
        ctx.scheduler.connect_service(network, records.container_name(ctx, name), [records.hostname(name)])
    return network


def leave_link_network(ctx: Context, name: str, app: str) -> None:
    """The service off the app's link network: an unlinked app's containers cannot reach it."""
    ctx.scheduler.disconnect_service(records.link_network_name(ctx, app), records.container_name(ctx, name))


def refuse_if_linked(ctx: Context, name: str) -> None:
    linked = records.links(ctx.store, records.require(ctx.store, name))
    if linked:
        apps = ", ".join(found.app for found in linked)
        raise ValidationError(f"Cannot delete linked service {name}: unlink it from {apps} first")


def destroy(ctx: Context, name: str) -> None:
    refuse_if_linked(ctx, name)
    _remove_everything(ctx, name)
    ctx.out.section(f"Postgres container deleted: {name}")


def restart(ctx: Context, name: str) -> None:
    container_id = container_of(ctx, name)
    ctx.out.step(f"Restarting postgres service {name}")
    ctx.scheduler.restart_service(container_id)
    _wait_until_ready(ctx, name, container_id)


def container_of(ctx: Context, name: str) -> str:
    records.require(ctx.store, name)
    state = ctx.scheduler.service_state(records.container_name(ctx, name))
    if state is None:
        raise NotFound(f"the container of postgres service {name} is missing; destroy and create it again")
    return state.id


def psql_argv(name: str) -> list[str]:
    """psql on the service's database, as the superuser, over the container's own socket."""
    return ["psql", "-U", records.USER, records.database(name)]


def export_argv(name: str) -> list[str]:
    return ["pg_dump", "-Fc", "--no-acl", "--no-owner", "-U", records.USER, records.database(name)]


def import_argv(name: str) -> list[str]:
    return ["pg_restore", "--clean", "--if-exists", "--no-acl", "--no-owner", "-U", records.USER,
            "-d", records.database(name)]  # fmt: skip


def _service(ctx: Context, name: str, reference: str, password: str) -> Service:
    return Service(
        name=records.container_name(ctx, name),
        image=reference,
        env={"POSTGRES_PASSWORD": password, "POSTGRES_DB": records.database(name)},
        labels={labels.SERVICE: f"postgres/{name}"},
        volume=records.volume_name(ctx, name),
        mount=image.PGDATA,
        network=records.network_name(ctx),
        network_labels={labels.SERVICE: "postgres"},
        aliases=[records.hostname(name)],
    )


def _wait_until_ready(ctx: Context, name: str, container_id: str) -> None:
    """Until the server accepts TCP connections (the first start's init server is socket-only)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        state = ctx.scheduler.service_state(container_id)
        if state is None or not state.running:
            break
        ready = ["pg_isready", "-q", "-h", "127.0.0.1", "-U", records.USER]
        if ctx.scheduler.exec_output(container_id, ready)[0] == 0:
            return
        time.sleep(0.5)
    tail = ctx.scheduler.last_logs(container_id)
    raise DeployFailed(f"postgres service {name} did not start within {READY_TIMEOUT} s; its last log lines:\n{tail}")


def _remove_everything(ctx: Context, name: str) -> None:
    ctx.scheduler.remove_service(records.container_name(ctx, name), records.volume_name(ctx, name))
    ctx.store.remove_folder(None, records.folder(name))
