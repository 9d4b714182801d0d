"""What a trigger costs: a no-op plugin's price per trigger run and per deploy (`make bench`).

Same set-up as deploy_times.py (bench/benchlib.py): a temporary minidokku root with its own nginx
on a loopback port; catmeow is pushed once with git over the local transport. The app's config has
DOKKU_DEFAULT_CHECKS_WAIT=0 (set with config:set --no-restart before that push), so the default 2 s
uptime check does not drown a difference of milliseconds. Then:

- counting: a plugin whose executable for every trigger of triggers.TRIGGERS appends the
  trigger's name to a file is installed (plugin:install of a local folder); one redeploy (an
  empty commit pushed) and one ps:restart say how many trigger runs each causes, and which.
  It is uninstalled before anything is timed;
- in process: triggers.fire(ctx, "post-deploy", ...) and triggers.docker_args(ctx,
  "docker-args-deploy", ...), CALLS calls each, first with no installed plugin at all (the
  bundled postgres only: what the core pays for dispatching when nobody listens, the "not
  slower" baseline), then with a no-op plugin (`exit 0` for every trigger, docker-args-* print
  nothing, `commands` exits 10: "not my command") enabled and disabled (plugin:enable|disable),
  alternating in ROUNDS blocks. A trigger run's cost is the enabled median minus the disabled one;
  the no-op script spawned alone (subprocess.run, outside minidokku) says how much of it is the
  process itself;
- redeploys: an empty commit pushed, timed until the push returns, with the no-op plugin enabled
  and disabled, interleaved (on/off, then off/on, ...), RUNS each.

The table gives the medians, the trigger counts, the overhead they predict per deploy (count x
cost of a run) and the redeploys measured with and without the plugin: their medians, the
difference (of the medians, and the median of each round's pair, which a machine busy with other
work disturbs less) and the ratio. A redeploy varies by a few hundred ms on a 2-core machine, so
with RUNS=5 the measured difference only bounds the overhead; the computed one is the estimate.
"""

import io
import os
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from benchlib import RUNS, Bench, count_from_environment

from minidokku.context import Context
from minidokku.output import Output
from minidokku.plugins import triggers
from minidokku.settings import Settings

CALLS = count_from_environment("BENCH_TRIGGER_CALLS", 200)
ROUNDS = 4  # the enabled and disabled calls alternate in this many blocks each
WARM_UP = 5  # calls before each measured series (imports, page cache)
NOOP = "trigger-noop"
COUNTING = "trigger-count"
POST_DEPLOY_ARGS = ("catmeow", "5000", "172.17.0.2", "v2")
DOCKER_ARGS_DEPLOY = ("catmeow", "dokku/catmeow:latest", "web", "1")
MANIFEST = '[plugin]\ndescription = "{}"\nversion = "0.1.0"\n'


def write_plugin(folder: Path, description: str, body: str) -> Path:
    """A plugin folder with plugin.toml and an executable `#!/bin/sh` + body for every trigger;
    `commands` exits with triggers.NOT_MINE instead, so the plugin claims no command."""
    folder.mkdir()
    (folder / "plugin.toml").write_text(MANIFEST.format(description))
    for trigger in triggers.TRIGGERS:
        script = folder / trigger
        end = f"exit {triggers.NOT_MINE}" if trigger == "commands" else "exit 0"
        script.write_text(f"#!/bin/sh\n{body}{end}\n")
        script.chmod(0o755)
    return folder


def platform_context(root: Path) -> Context:
    """A Context on the bench's root, as the CLI makes one, its output kept in memory."""
    saved = os.environ.get("DOKKU_ROOT")
    os.environ["DOKKU_ROOT"] = str(root)
    try:
        return Context(Settings.load(), Output(io.StringIO()))
    finally:
        if saved is None:
            del os.environ["DOKKU_ROOT"]
        else:
            os.environ["DOKKU_ROOT"] = saved


def per_call(action: Callable[[], object], calls: int) -> list[float]:
    """Seconds each of calls calls of action took, after WARM_UP calls not kept."""
    for _ in range(WARM_UP):
        action()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def read_log(log: Path) -> Counter:
    """The trigger runs the counting plugin logged since the last call, by trigger; the log is emptied."""
    if not log.exists():
        return Counter()
    counts = Counter(log.read_text().split())
    log.unlink()
    return counts


def count_triggers(bench: Bench, workdir: Path) -> tuple[Counter, Counter]:
    """How many trigger runs (by trigger) one empty-commit redeploy and one ps:restart cause."""
    log = workdir / "triggers.log"
    folder = write_plugin(workdir / COUNTING, "logs every trigger run", f"echo \"$DOKKU_TRIGGER\" >> '{log}'\n")
    bench.dokku("plugin:install", str(folder))
    read_log(log)  # its dependencies and install triggers, run by plugin:install
    bench.commit("count the triggers")
    bench.push()
    bench.wait_serving()
    redeploy = read_log(log)
    bench.dokku("ps:restart", "catmeow")
    bench.wait_serving()
    restart = read_log(log)
    bench.dokku("plugin:uninstall", COUNTING)
    return redeploy, restart


def switch(bench: Bench, on: bool) -> None:
    bench.dokku("plugin:enable" if on else "plugin:disable", NOOP)


def in_order(n: int) -> tuple[bool, bool]:
    """Enabled first in even rounds, disabled first in odd ones."""
    return (True, False) if n % 2 == 0 else (False, True)


def measure_in_process(bench: Bench, calls: dict[str, Callable[[], object]]) -> dict[tuple[str, bool], list[float]]:
    """Each call with the no-op plugin enabled (True) and disabled (False), alternating in ROUNDS blocks."""
    samples: dict[tuple[str, bool], list[float]] = {(name, on): [] for name in calls for on in (True, False)}
    for n in range(ROUNDS):
        for on in in_order(n):
            switch(bench, on)
            for name, action in calls.items():
                samples[(name, on)] += per_call(action, CALLS // ROUNDS)
    return samples


def measure_redeploys(bench: Bench) -> dict[bool, list[float]]:
    """Seconds from an empty commit's push to the push returning, no-op plugin enabled and disabled."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for n in range(RUNS):
        for on in in_order(n):
            switch(bench, on)
            bench.commit(f"no change {n} {'with' if on else 'without'} the no-op plugin")
            started = time.monotonic()
            bench.push()
            times[on].append(time.monotonic() - started)
            bench.wait_serving()
    return times


def breakdown(counts: Counter) -> str:
    return ", ".join(f"{trigger} {n}" for trigger, n in sorted(counts.items()))


def predicted(counts: Counter, fire_cost: float, docker_args_cost: float) -> float:
    """Seconds a deploy's trigger runs add: docker-args-* at their own (captured) cost, the rest at fire's."""
    captured = sum(n for trigger, n in counts.items() if trigger.startswith("docker-args-"))
    return captured * docker_args_cost + (sum(counts.values()) - captured) * fire_cost


def print_table(
    bare: dict[str, list[float]],
    spawn: list[float],
    samples: dict[tuple[str, bool], list[float]],
    counts: tuple[Counter, Counter],
    redeploys: dict[bool, list[float]],
) -> None:
    median = statistics.median
    cost = {name: median(samples[(name, True)]) - median(samples[(name, False)]) for name in bare}
    redeploy_counts, restart_counts = counts
    with_plugin, without = median(redeploys[True]), median(redeploys[False])
    paired = [on - off for on, off in zip(redeploys[True], redeploys[False])]  # one pair per round
    rows = [
        ("dispatch, no installed plugin: fire post-deploy", f"{median(bare['fire']) * 1e6:.0f} us"),
        ("dispatch, no installed plugin: docker-args-deploy", f"{median(bare['docker-args']) * 1e6:.0f} us"),
        ("fire post-deploy, no-op plugin disabled", f"{median(samples[('fire', False)]) * 1e6:.0f} us"),
        ("fire post-deploy, no-op plugin enabled", f"{median(samples[('fire', True)]) * 1e3:.2f} ms"),
        ("docker-args-deploy, no-op plugin disabled", f"{median(samples[('docker-args', False)]) * 1e6:.0f} us"),
        ("docker-args-deploy, no-op plugin enabled", f"{median(samples[('docker-args', True)]) * 1e3:.2f} ms"),
        ("the no-op script spawned alone (subprocess.run)", f"{median(spawn) * 1e3:.2f} ms"),
        ("per-trigger cost, fire (enabled - disabled)", f"{cost['fire'] * 1e3:.2f} ms"),
        ("per-trigger cost, docker-args (enabled - disabled)", f"{cost['docker-args'] * 1e3:.2f} ms"),
        ("trigger runs per redeploy (empty commit)", f"{sum(redeploy_counts.values())}"),
        ("trigger runs per ps:restart", f"{sum(restart_counts.values())}"),
        (
            "computed overhead per redeploy (runs x cost)",
            f"{predicted(redeploy_counts, cost['fire'], cost['docker-args']) * 1e3:.1f} ms",
        ),
        (
            "computed overhead per ps:restart (runs x cost)",
            f"{predicted(restart_counts, cost['fire'], cost['docker-args']) * 1e3:.1f} ms",
        ),
        (f"redeploy, no-op plugin enabled (median of {RUNS})", f"{with_plugin:.3f} s"),
        (f"redeploy, no-op plugin disabled (median of {RUNS})", f"{without:.3f} s"),
        ("measured difference of the medians", f"{(with_plugin - without) * 1e3:.0f} ms"),
        ("median of the paired differences (same round)", f"{median(paired) * 1e3:.0f} ms"),
        ("ratio, enabled / disabled", f"{with_plugin / without:.3f}"),
    ]
    width = max(len(label) for label, _ in rows)
    print(
        f"\nA no-op plugin (every trigger of triggers.TRIGGERS), catmeow with DOKKU_DEFAULT_CHECKS_WAIT=0;"
        f" in-process medians of {CALLS} calls:\n"
    )
    print(f"| {'measure':<{width}} | {'value':>10} |")
    print(f"|{'-' * (width + 2)}|{'-' * 12}|")
    for label, value in rows:
        print(f"| {label:<{width}} | {value:>10} |")
    print(f"\ntrigger runs per redeploy: {breakdown(redeploy_counts)}")
    print(f"trigger runs per ps:restart: {breakdown(restart_counts)}")
    for on in (True, False):
        runs = ", ".join(f"{seconds:.3f}" for seconds in redeploys[on])
        print(f"redeploys {'with' if on else 'without'} the no-op plugin (s, in run order): {runs}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        workdir = Path(directory)
        bench = Bench(workdir)
        try:
            bench.dokku("apps:create", "catmeow")
            bench.dokku("config:set", "--no-restart", "catmeow", "DOKKU_DEFAULT_CHECKS_WAIT=0")
            bench.timed(bench.push)
            ctx = platform_context(bench.root)
            calls = {
                "fire": lambda: triggers.fire(ctx, "post-deploy", *POST_DEPLOY_ARGS),
                "docker-args": lambda: triggers.docker_args(ctx, "docker-args-deploy", *DOCKER_ARGS_DEPLOY),
            }
            bare = {name: per_call(action, CALLS) for name, action in calls.items()}
            counts = count_triggers(bench, workdir)
            noop = write_plugin(workdir / NOOP, "does nothing", "")
            bench.dokku("plugin:install", str(noop))
            samples = measure_in_process(bench, calls)
            spawn = per_call(lambda: subprocess.run([str(noop / "post-deploy")], stdin=subprocess.DEVNULL), CALLS)
            redeploys = measure_redeploys(bench)
        finally:
            bench.close()
    print_table(bare, spawn, samples, counts, redeploys)


if __name__ == "__main__":
    main()
