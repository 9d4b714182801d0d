"""The bench's pure parts (bench/): the issue's table and its ratios, the failures a request loop
saw, a traced push's step lines, piku's nginx site moved onto the bench's port, and the order and
medians of the wrk runs through nginx and straight to the container."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import proxy_overhead  # noqa: E402
from deploy_steps import OUTSIDE, parse_steps  # noqa: E402
from pikulib import rendered  # noqa: E402
from redeploy_under_load import WrkSummary  # noqa: E402
from targets import at_least, at_most, format_table  # noqa: E402
from versus_piku import Failures, Probe, failures, ratio  # noqa: E402


def test_a_ratio_is_ours_over_theirs_and_says_when_theirs_is_zero():
    assert ratio(3.0, 4.0) == "0.75"
    assert ratio(0.0, 2.4) == "0.00"
    assert ratio(0.0, 0.0) == "–"
    assert ratio(5.0, 0.0) == "∞"


def test_a_row_gives_its_median_target_verdict_and_piku_ratio():
    row = at_most("code-only redeploy", [1.2, 4.0, 1.4], 1.5, piku=[4.0, 3.0, 5.0])
    assert row.cells() == ["code-only redeploy", "1.40 s", "≤ 1.50 s", "yes", "4.00 s", "0.35"]
    missed = at_most("config:set", [2.0, 3.0], 1.2)
    assert missed.cells() == ["config:set", "2.50 s", "≤ 1.20 s", "no", "", ""]
    assert at_least("nginx ÷ direct", 0.9, 0.95).cells() == ["nginx ÷ direct", "0.90", "≥ 0.95", "no", "", ""]


def test_the_table_is_markdown_with_aligned_columns():
    table = format_table([at_most("first deploy", [4.5], 4.0, piku=[4.0]), at_least("rps", 0.97, 0.95)])
    assert table.splitlines() == [
        "| step         | median | target   | met | piku   | minidokku ÷ piku |",
        "|--------------|--------|----------|-----|--------|------------------|",
        "| first deploy | 4.50 s | ≤ 4.00 s | no  | 4.00 s | 1.12             |",
        "| rps          | 0.97   | ≥ 0.95   | yes |        |                  |",
    ]


def test_failures_count_the_failed_requests_and_the_time_each_run_of_them_spans():
    probes = [
        Probe(0.0, 0.1, True),
        Probe(0.1, 0.2, False),
        Probe(0.2, 0.5, False),
        Probe(0.5, 0.6, True),
        Probe(1.0, 1.25, False),
    ]
    assert failures(probes) == Failures(requests=5, failed=3, seconds=0.4 + 0.25)
    assert failures([Probe(0.0, 0.1, True)]) == Failures(1, 0, 0.0)


def test_the_step_lines_of_a_push_are_read_by_step_in_their_order():
    output = (
        "remote: -----> Building catmeow ...\n"
        "remote: + time receive 0.120 s\n"
        "remote: + engine GET /v1.41/containers/json 200\n"
        "remote: + time build 0.800 s\r\n"
        "+ time checks 2.004 s\n"
        "remote: + time build 0.100 s\n"
    )
    assert parse_steps(output) == {"receive": 0.12, "build": 0.9, "checks": 2.004}
    assert OUTSIDE not in parse_steps(output)


def test_piku_s_site_listens_on_the_bench_port_alone():
    site = (
        "upstream catmeow {\n  server 127.0.0.1:33943;\n}\nserver {\n"
        "  listen              0.0.0.0:80;\n  listen              0.0.0.0:443 ssl http2;\n"
        "  server_name         catmeow.example.test;\n}\n"
    )
    assert rendered(site, 28163) == (
        "upstream catmeow {\n  server 127.0.0.1:33943;\n}\nserver {\n"
        "  listen              127.0.0.1:28163;\n"
        "  server_name         catmeow.example.test;\n}\n"
    )


def test_the_wrk_paths_take_turns_and_nginx_is_divided_by_the_medians(monkeypatch, tmp_path):
    """Each round runs every path once, starting one path later than the round before; the
    ratio is the median of each round's through nginx ÷ the path asked about."""
    rates = {
        "published port": [100.0, 300.0, 200.0],
        "container address": [200.0, 400.0, 100.0],
        "through nginx": [190.0] * 3,
    }
    urls = {"http://127.0.0.1:32001/": "published port", "http://10.0.0.2:5000/": "container address"}
    asked = []

    def wrk(url, script, host):
        path = urls.get(url, "through nginx")
        asked.append((path, host))
        rate = rates[path][sum(1 for p, _ in asked if p == path) - 1]
        return WrkSummary(requests=int(rate), non2xx=0, socket_errors={}, requests_per_second=rate, p99_seconds=0.01)

    monkeypatch.setattr(proxy_overhead, "routed_container", lambda bench, app: ("10.0.0.2:5000", 32001))
    monkeypatch.setattr(proxy_overhead, "wrk", wrk)
    bench = type("FakeBench", (), {"url": "http://127.0.0.1:25000/"})()
    figures = proxy_overhead.measure(bench, "gunimeow", "gunicorn", tmp_path / "count.lua", rounds=3)
    assert [path for path, _ in asked] == [
        "published port", "container address", "through nginx",
        "container address", "through nginx", "published port",
        "through nginx", "published port", "container address",
    ]  # fmt: skip
    assert {host for _, host in asked} == {"gunimeow.example.test"}
    assert (figures.published_address, figures.container_address) == ("127.0.0.1:32001", "10.0.0.2:5000")
    assert figures.ratio() == 0.95  # the median of the rounds' 0.95, 0.475 and 1.9
    assert figures.requests_per_second("published port") == 200.0
    assert figures.ratio("published port") == 190.0 / 200.0
    assert figures.ratio("container address", "published port") == 0.75  # 0.5, 0.75, 2.0
