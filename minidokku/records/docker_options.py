"""docker-options: per-phase container options, global (ROOT/DOCKER_OPTIONS_*) and per app.

`for_app` is the one place that decides what an app's containers get (builds, processes, release
tasks, one-off runs): a tenant's app (granted to a user key) gets its options confined
(dockeroptions.confine): what would reach the host is left out with one warning line, whoever set
it (a global option, a plugin's docker-args, an app option from before the app was granted). An
admin adding such an option to a tenant's app is refused at once.
"""

from collections.abc import Sequence
from typing import Optional

from minidokku.access import rules
from minidokku.errors import ValidationError
from minidokku.output import Output
from minidokku.records import dockeroptions
from minidokku.records.dockeroptions import DockerOptions
from minidokku.state import Store


def file_name(phase: str) -> str:
    return f"DOCKER_OPTIONS_{phase.upper()}"


def lines(store: Store, app: Optional[str], phase: str) -> list[str]:
    return store.read_lines(app, file_name(phase))


def add(store: Store, app: Optional[str], phases: list[str], option: str) -> list[str]:
    """Stores the option; returns what of it user keys' apps will not get (a global option's)."""
    options = dockeroptions.parse([option])  # refuse an unsupported flag now, not at the next deploy
    _, dropped = dockeroptions.confine(options)
    if dropped and app is not None and rules.is_tenant_app(store, app):
        raise ValidationError(
            f"{app} is a user key's app: it cannot get {', '.join(dropped)} (no host network, no host paths)"
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


def stored(store: Store, app: str, phase: str) -> list[str]:
    """The global option lines of the phase, then the app's."""
    return lines(store, None, phase) + lines(store, app, phase)


def effective(
    store: Store, app: str, phase: str, from_plugins: Sequence[str] = (), out: Optional[Output] = None
) -> DockerOptions:
    """The stored options, then what plugins add (docker-args-* triggers); a later one wins
    where two set a value. Confined for a tenant's app (for_app)."""
    return for_app(store, app, stored(store, app, phase) + list(from_plugins), out)


def for_app(store: Store, app: str, option_lines: Sequence[str], out: Optional[Output] = None) -> DockerOptions:
    """What the app's container gets of option_lines: all of them, or for a tenant's app what
    confine keeps, saying on out (when given) what was left out."""
    options = dockeroptions.parse(list(option_lines))
    if not rules.is_tenant_app(store, app):
        return options
    confined, dropped = dockeroptions.confine(options)
    if dropped and out is not None:
        out.info(f"Not applied to {app}, a user key's app: {', '.join(dropped)}")
    return confined
