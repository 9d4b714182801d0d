"""The installer's sample app on the real engine and nginx: `dokku sample:deploy` (install.sh's last
step) sets an sslip.io global domain on a machine without one, deploys catmeow by a git push into
its repo (the hook's build and deploy, as a user's push), serves its page there, and never deploys
it again, also once destroyed."""

import re

from helpers import wait_until_serving

PAGE = "Cat dreams meow.."


def test_the_sample_deploys_by_a_push_at_an_sslip_io_name_once(platform):
    platform.dokku("domains:clear-global")  # a new machine's state (the fixture sets example.test)
    output = platform.dokku("sample:deploy").stdout

    domain = re.search(r"^-----> Set the global domain to (\S+\.sslip\.io)$", output, re.MULTILINE).group(1)
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+\.sslip\.io", domain)
    host = f"catmeow.{domain}"
    assert "remote: -----> Building catmeow ..." in output.splitlines()  # git's hook ran the build
    assert f"=====> The sample app catmeow serves at http://{host}:{platform.http_port}" in output.splitlines()
    wait_until_serving(platform, host, PAGE)
    releases = platform.dokku("releases", "catmeow").stdout

    again = platform.dokku("sample:deploy").stdout
    assert again.startswith("-----> The sample is never deployed twice (SAMPLE: deployed ")
    assert platform.dokku("releases", "catmeow").stdout == releases
    assert platform.get(host) == (200, PAGE)

    platform.dokku("apps:destroy", "catmeow", "--force")
    assert "never deployed twice" in platform.dokku("sample:deploy").stdout
    assert platform.dokku("apps:exists", "catmeow", check=False).returncode != 0
