"""How many containers of each process type run: `ps:scale`, kept in APP/SCALE as `web=2` lines.

A type never scaled by hand takes app.json's formation quantity, else Dokku's default: one web
container and none of the others. `release` is a deployment task, never a running process. An
app runs at most MAX_CONTAINERS containers, every process type together, however they are asked
for (ps:scale or app.json), so one tenant cannot fill the host with containers.
"""

from minidokku.errors import ValidationError
from minidokku.records import names, procfile
from minidokku.state import Store

FILE = "SCALE"
MAX_QUANTITY = 100
MAX_CONTAINERS = 20
NOT_A_PROCESS = "release"


def parse_pairs(pairs: list[str]) -> dict[str, int]:
    """Reads `web=2 worker=1` arguments; raises ValidationError on a bad one."""
    scale: dict[str, int] = {}
    for pair in pairs:
        name, sep, count = pair.partition("=")
        if not sep:
            raise ValidationError(f"expected PROCESS=COUNT, got {pair[:60]!r}")
        procfile.validate_process_type(name)
        if name == NOT_A_PROCESS:
            raise ValidationError("release is run once per deploy, it cannot be scaled")
        if not names.is_whole_number(count) or int(count) > MAX_QUANTITY:
            raise ValidationError(f"{name}: the count must be a whole number from 0 to {MAX_QUANTITY}")
        scale[name] = int(count)
    return scale


def read(store: Store, app: str) -> dict[str, int]:
    return parse_pairs(store.read_lines(app, FILE))


def write(store: Store, app: str, scale: dict[str, int]) -> None:
    _within_cap(scale)
    store.write_lines(app, FILE, [f"{name}={count}" for name, count in scale.items()])


def _within_cap(counts: dict[str, int]) -> dict[str, int]:
    total = sum(counts.values())
    if total > MAX_CONTAINERS:
        raise ValidationError(
            f"{total} containers is more than an app may run: at most {MAX_CONTAINERS}, every process type together"
        )
    return counts


def effective(saved: dict[str, int], processes: dict[str, str], formation: dict[str, int]) -> dict[str, int]:
    """Containers to run per process type of the release, in Procfile order."""
    counts = {}
    for name in processes:
        if name == NOT_A_PROCESS:
            continue
        default = 1 if name == "web" else 0
        counts[name] = saved.get(name, formation.get(name, default))
    return _within_cap(counts)
