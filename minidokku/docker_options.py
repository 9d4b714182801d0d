"""docker-options: per-phase container options, global (ROOT/DOCKER_OPTIONS_*) and per app."""

from collections.abc import Sequence
from typing import Optional

from minidokku import dockeroptions
from minidokku.dockeroptions import DockerOptions
from minidokku.state import Store


def file_name(phase: str) -> str:
    return f"DOCKER_OPTIONS_{phase.upper()}"


def lines(store: Store, app: Optional[str], phase: str) -> list[str]:
    return store.read_lines(app, file_name(phase))


def add(store: Store, app: Optional[str], phases: list[str], option: str) -> None:
    dockeroptions.parse([option])  # refuse an unsupported flag now, not at the next deploy
    for phase in phases:
        current = lines(store, app, phase)
        if option.strip() not in current:
            store.write_lines(app, file_name(phase), current + [option.strip()])


def remove(store: Store, app: Optional[str], phases: list[str], option: str) -> None:
    for phase in phases:
        store.write_lines(app, file_name(phase), [line for line in lines(store, app, phase) if line != option.strip()])


def clear(store: Store, app: Optional[str], phases: list[str]) -> None:
    for phase in phases:
        store.remove(app, file_name(phase))


def stored(store: Store, app: str, phase: str) -> list[str]:
    """The global option lines of the phase, then the app's."""
    return lines(store, None, phase) + lines(store, app, phase)


def effective(store: Store, app: str, phase: str, from_plugins: Sequence[str] = ()) -> DockerOptions:
    """The stored options, then what plugins add (docker-args-* triggers); a later one wins
    where two set a value."""
    return dockeroptions.parse(stored(store, app, phase) + list(from_plugins))
