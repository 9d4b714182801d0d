"""Deploy times of the catmeow app on the real engine, printed as a table (`make bench`).

Runs in a temporary minidokku root with its own nginx on a loopback port and pushes with git
(over the local transport: the same receive-pack and pre-receive hook as over ssh). Each figure
is the median of RUNS pushes, measured from `git push` to the page serving through nginx.
"""

import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
CATMEOW = REPO_ROOT / "tests" / "apps" / "catmeow"
CA = "/etc/ssl/certs/ca-certificates.crt"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
DOKKU = str(Path(sys.executable).parent / "dokku")
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "bench",
                "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bench:
    def __init__(self, workdir: Path):
        self.root = workdir / "root"
        self.root.mkdir()
        self.port = free_port()
        nginx_dir = workdir / "nginx"
        nginx_dir.mkdir()
        (nginx_dir / "nginx.conf").write_text(
            f"pid {nginx_dir}/nginx.pid;\nerror_log {nginx_dir}/error.log;\nevents {{}}\n"
            f"http {{ access_log off; server {{ listen {self.port} default_server; return 404; }}\n"
            f"include {self.root}/*/nginx.conf; }}\n"
        )
        self.nginx = ["nginx", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")]
        self.namespace = f"bench-{secrets.token_hex(3)}-"  # keeps off any real app's Docker objects
        (self.root / "SETTINGS").write_text(
            f"export NGINX_COMMAND='{' '.join(self.nginx)}'\nexport HTTP_PORT='{self.port}'\n"
            f"export NAMESPACE='{self.namespace}'\n"
        )
        subprocess.run(self.nginx, check=True)
        self.env = dict(os.environ, DOKKU_ROOT=str(self.root), **GIT_IDENTITY)
        self.dokku("domains:set-global", "example.test")
        self.dokku("docker-options:add", "--global", "build", f"--network=host -v {CA}:{CA}:ro")
        self.src = workdir / "catmeow"
        shutil.copytree(CATMEOW, self.src)
        self.git("init", "-q", "-b", "main")
        self.commit("first")

    def dokku(self, *args: str) -> None:
        subprocess.run([DOKKU, *args], env=self.env, check=True, capture_output=True)

    def git(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=self.src, env=self.env, check=True, capture_output=True, text=True)

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def timed(self, action) -> float:
        started = time.monotonic()
        action()
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{self.port}/", headers={"Host": "catmeow.example.test"},
                                      timeout=5)  # fmt: skip
                if answer.text == "Cat dreams meow..":
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.02)

    def push(self) -> None:
        self.git("push", "-q", str(self.root / "catmeow"), "main")

    def code_change(self, n: int) -> None:
        with open(self.src / "catmeow.py", "a") as handle:
            handle.write(f"# change {n}\n")
        self.commit(f"code {n}")

    def close(self) -> None:
        subprocess.run([DOKKU, "apps:destroy", "catmeow", "--force"], env=self.env, capture_output=True)
        subprocess.run([*self.nginx, "-s", "quit"], capture_output=True)


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
