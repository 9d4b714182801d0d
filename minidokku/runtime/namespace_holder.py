"""A namespace holder: a container that runs nothing but holds a network namespace other
containers join (`container:ID`), for an app's builds (runtime/build_network.py) and for its web
containers (runtime/web_network.py).

It sleeps under the engine's init, which ends it at once on a stop, without capabilities, on a
read-only root, within LIMITS. It carries none of the app's labels: it runs none of the app's
code, and nothing that lists the app's containers (ps, cleanup) may count it.
"""

from minidokku.records import resources

LIMITS = resources.Limits(nano_cpus=100_000_000, memory=16 * resources.MEGABYTE, pids=4)


def config(image: str, marks: dict[str, str]) -> dict:
    """The create request of a holder made from image, labelled with marks (the caller's own labels,
    by which it finds the holder again)."""
    return {
        "Image": image,
        "Entrypoint": ["sleep"],
        "Cmd": ["infinity"],
        "Labels": dict(marks),
        "HostConfig": {"Init": True, "ReadonlyRootfs": True, "CapDrop": ["ALL"]},
    }
