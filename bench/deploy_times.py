"""Deploy times of the catmeow app on the real engine, printed as a table (`make bench`).

Runs in a temporary minidokku root with its own nginx on a loopback port and pushes with git
(over the local transport: the same receive-pack and pre-receive hook as over ssh). Each figure
is the median of RUNS pushes (or commands), from its start to the page serving through nginx.
The baseline is `ps:restart` measured in the same run: a deploy without any build, so each
ratio says what building adds to the deploy itself. Every deploy waits for the default check
(new containers stay up 2 s); the last row sets DOKKU_DEFAULT_CHECKS_WAIT=0 to show the rest.
"""

import tempfile
from pathlib import Path

from benchlib import RUNS, Bench, print_ratio_table

from minidokku.engine.client import Engine
from minidokku.settings import STACK_REPOSITORY


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        bench = Bench(Path(directory))
        try:
            bench.dokku("apps:create", "catmeow")
            first = bench.timed(bench.push)
            steps = {"first deploy (pip install flask)": [first]}
            steps["no-change redeploy (empty commit)"] = [
                bench.timed(lambda n=n: (bench.commit(f"no change {n}"), bench.push())) for n in range(RUNS)
            ]
            steps["code-only redeploy"] = [
                bench.timed(lambda n=n: (bench.code_change(n), bench.push())) for n in range(RUNS)
            ]
            steps["dependency change redeploy"] = [
                bench.timed(lambda n=n: (bench.dependency_change(n), bench.push())) for n in range(RUNS)
            ]
            steps["ps:restart (no build; the baseline)"] = [
                bench.timed(lambda: bench.dokku("ps:restart", "catmeow")) for _ in range(RUNS)
            ]
            steps["config:set (no build)"] = [
                bench.timed(lambda n=n: bench.dokku("config:set", "catmeow", f"N={n}")) for n in range(RUNS)
            ]
            bench.dokku("config:set", "catmeow", "DOKKU_DEFAULT_CHECKS_WAIT=0")
            steps["code-only redeploy, no uptime check"] = [
                bench.timed(lambda n=n: (bench.code_change(100 + n), bench.push())) for n in range(RUNS)
            ]
            engine = Engine()
            app_image = engine.inspect_image(f"dokku/{bench.namespace}catmeow:latest")["Size"]
            stack_image = engine.inspect_image(f"{STACK_REPOSITORY}:latest")["Size"]
        finally:
            bench.close()
    print(f"\ncatmeow on this machine, git push (or command) to page serving, median of {RUNS}:\n")
    print_ratio_table(steps, "ps:restart (no build; the baseline)")
    print(
        f"\nimage size: {app_image / 1e6:.0f} MB, of which {stack_image / 1e6:.0f} MB is the stack image every app"
        f" shares ({(app_image - stack_image) / 1e6:.1f} MB of the app's own)"
    )


if __name__ == "__main__":
    main()
