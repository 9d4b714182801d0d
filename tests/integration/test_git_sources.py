"""git's settings and sources on the real engine: keep-git-dir gives the build a .git whose HEAD is
the pushed commit; a deploy sets GIT_REV; the same archive or image again is Dokku's "No changes
detected" (exit 1) and deploys nothing; apps:report says where the last deploy came from."""

import io
import tarfile

from helpers import APPS, git, make_git_repo, wait_until_serving

from minidokku.build import tarball

NO_CHANGES = (
    " !     No changes detected, skipping git commit\n"
    " !     Call 'ps:rebuild' on app to rebuild the app from existing source\n"
)
SHOWS_HEAD = (
    "FROM minidokku/stack:latest\nCOPY . /app\n"
    "RUN mkdir /site && (cat /app/.git/HEAD 2>/dev/null || echo no .git) > /site/index.html\nEXPOSE 8080\n"
    'CMD ["python3", "-m", "http.server", "8080", "--directory", "/site"]\n'
)


def test_keep_git_dir_gives_the_build_the_repo_at_the_pushed_commit_and_git_rev_is_set(platform, tmp_path):
    repo = tmp_path / "gitdir"
    repo.mkdir()
    (repo / "Dockerfile").write_text(SHOWS_HEAD)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "shows its .git")
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    platform.dokku("apps:create", "gitdir")
    try:
        assert platform.push(repo, "gitdir").returncode == 0
        wait_until_serving(platform, "gitdir.example.test", "no .git\n")

        platform.dokku("git:set", "gitdir", "keep-git-dir", "true")
        rebuilt = platform.dokku("ps:rebuild", "gitdir", check=False)
        assert rebuilt.returncode == 0, rebuilt.stderr
        wait_until_serving(platform, "gitdir.example.test", f"{sha}\n")
        assert platform.dokku("config:get", "gitdir", "GIT_REV").stdout == f"{sha}\n"
        assert platform.dokku("apps:report", "gitdir", "--app-deploy-source").stdout == "git-push\n"
    finally:
        platform.dokku("apps:destroy", "gitdir", "--force", check=False)


def test_the_same_archive_again_is_no_change(platform, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted((APPS / "procs").iterdir()):
            tar.add(path, arcname=path.name)
    platform.dokku("apps:create", "samearch")
    try:
        assert platform.dokku("git:from-archive", "samearch", "-", input=buffer.getvalue()).returncode == 0
        releases_before = sorted((platform.root / "samearch" / "releases").glob("v*.json"))

        again = platform.dokku("git:from-archive", "samearch", "-", input=buffer.getvalue(), check=False)

        assert (again.returncode, again.stderr) == (1, NO_CHANGES)
        assert sorted((platform.root / "samearch" / "releases").glob("v*.json")) == releases_before
        report = platform.dokku("apps:report", "samearch", "--format", "json").stdout
        assert '"deploy-source":"tar.gz"' in report and '"deploy-source-metadata":"stdin"' in report
    finally:
        platform.dokku("apps:destroy", "samearch", "--force", check=False)


def test_the_image_the_app_runs_again_is_no_change(platform, engine, tmp_path):
    image = f"{platform.settings()['NAMESPACE']}sameimage:1"
    context = tarball.pack({"Dockerfile": (b'FROM minidokku/stack:latest\nCMD ["sleep", "infinity"]\n', 0o644)})
    for _ in engine.build_image(io.BytesIO(context), image, {}):
        pass
    platform.dokku("apps:create", "sameimage")
    try:
        platform.dokku("checks:disable", "sameimage")
        assert platform.dokku("git:from-image", "sameimage", image).returncode == 0
        again = platform.dokku("git:from-image", "sameimage", image, check=False)
        assert (again.returncode, again.stderr) == (1, NO_CHANGES)
        assert platform.dokku("git:report", "sameimage", "--git-source-image").stdout == f"{image}\n"
        assert platform.dokku("apps:report", "sameimage", "--app-deploy-source").stdout == "docker-image\n"
    finally:
        platform.dokku("apps:destroy", "sameimage", "--force", check=False)
        engine.remove_image(image, force=True)


def test_git_initialize_writes_a_removed_hook_again_and_pushes_deploy(platform, tmp_path):
    """A hook lost (removed by hand, a restore) is written again: the next push deploys."""
    repo = make_git_repo(tmp_path / "reinit", APPS / "procs")
    platform.dokku("apps:create", "reinit")
    try:
        hook = platform.root / "reinit" / "hooks" / "pre-receive"
        hook.unlink()
        assert platform.dokku("git:initialize", "reinit").stdout == "-----> Initializing git repository for reinit\n"
        assert hook.is_file()
        assert platform.push(repo, "reinit").returncode == 0
        wait_until_serving(platform, "reinit.example.test", "hello from web.1")
    finally:
        platform.dokku("apps:destroy", "reinit", "--force", check=False)
