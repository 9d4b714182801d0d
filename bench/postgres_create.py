"""What a PostgreSQL service costs in time (`make bench`): postgres:create, and linking it.

Same set-up as deploy_times.py (bench/benchlib.py): a temporary root with its own nginx and
NAMESPACE, catmeow pushed once. Then, RUNS times each:
- `postgres:create` until it returns (the server accepts connections by then), with the service
  image already made; the first run of a machine also builds the image (Debian's package, where
  no registry answers), timed separately when the image is missing at the start;
- `postgres:link` until catmeow serves again (it redeploys with DATABASE_URL), then unlink and
  destroy;
- `ps:restart catmeow` until it serves, the baseline: a deploy without a build, as elsewhere.
"""

import tempfile
import time
from pathlib import Path

from benchlib import RUNS, Bench, print_ratio_table

from minidokku.engine.client import Engine
from minidokku.plugins.postgres import image


def timed(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def main() -> None:
    engine = Engine()
    image_missing = not engine.image_exists(image.image_reference(image.DEBIAN_VERSION))
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        bench = Bench(Path(directory))
        try:
            bench.dokku("apps:create", "catmeow")
            bench.timed(bench.push)
            steps: dict[str, list[float]] = {}
            if image_missing:
                steps["postgres:create, building the image"] = [timed(lambda: bench.dokku("postgres:create", "cold"))]
                bench.dokku("postgres:destroy", "cold", "--force")
            steps["postgres:create (image there)"] = []
            steps["postgres:link, until catmeow serves"] = []
            for n in range(RUNS):
                steps["postgres:create (image there)"].append(
                    timed(lambda n=n: bench.dokku("postgres:create", f"db{n}"))
                )
                steps["postgres:link, until catmeow serves"].append(
                    bench.timed(lambda n=n: bench.dokku("postgres:link", f"db{n}", "catmeow"))
                )
                bench.dokku("postgres:unlink", f"db{n}", "catmeow")
                bench.dokku("postgres:destroy", f"db{n}", "--force")
            steps["ps:restart (the baseline)"] = [
                bench.timed(lambda: bench.dokku("ps:restart", "catmeow")) for _ in range(RUNS)
            ]
        finally:
            bench.close()
            engine.remove_network(f"{bench.namespace}minidokku-services")
    print(f"\nPostgreSQL service on this machine, median of {RUNS} (the image build: one run):\n")
    print_ratio_table(steps, "ps:restart (the baseline)")
    size = engine.inspect_image(image.image_reference(image.DEBIAN_VERSION))["Size"]
    print(f"\nservice image: {size / 1e6:.0f} MB (the stack image and Debian's postgresql-15 with its LLVM JIT)")


if __name__ == "__main__":
    main()
