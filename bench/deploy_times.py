"""Deploy times of the catmeow app on the real engine, printed as a table (`make bench`).

Runs in a temporary minidokku root with its own nginx on a loopback port and pushes with git
(over the local transport: the same receive-pack and pre-receive hook as over ssh). Each figure
is the median of RUNS pushes, measured from `git push` to the page serving through nginx.
"""

import statistics
import subprocess
import tempfile
from pathlib import Path

from benchlib import RUNS, Bench


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="minidokku-bench-") as directory:
        bench = Bench(Path(directory))
        try:
            bench.dokku("apps:create", "catmeow")
            first = bench.timed(bench.push)
            code_only = []
            for n in range(RUNS):
                bench.code_change(n)
                code_only.append(bench.timed(bench.push))
            restarts = [bench.timed(lambda: bench.dokku("ps:restart", "catmeow")) for _ in range(RUNS)]
            config = [bench.timed(lambda n=n: bench.dokku("config:set", "catmeow", f"N={n}")) for n in range(RUNS)]
            image = subprocess.run(
                ["docker", "image", "inspect", "-f", "{{.Size}}", f"dokku/{bench.namespace}catmeow:latest"],
                capture_output=True, text=True,
            )  # fmt: skip
        finally:
            bench.close()
    print(f"\ncatmeow on this machine, git push (or command) to page serving, median of {RUNS}:\n")
    print(f"| {'step':<38} | {'seconds':>8} |")
    print(f"|{'-' * 40}|{'-' * 10}|")
    print(f"| {'first deploy (pip install flask)':<38} | {first:>8.2f} |")
    print(f"| {'code-only redeploy':<38} | {statistics.median(code_only):>8.2f} |")
    print(f"| {'ps:restart (no build)':<38} | {statistics.median(restarts):>8.2f} |")
    print(f"| {'config:set (no build)':<38} | {statistics.median(config):>8.2f} |")
    if image.returncode == 0:
        print(f"\nimage size: {int(image.stdout) / 1e6:.0f} MB (the stack image is shared by every app)")


if __name__ == "__main__":
    main()
