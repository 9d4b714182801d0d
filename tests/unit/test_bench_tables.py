"""The bench's pure parts (bench/): the issue's table and its ratios, the failures a request loop
saw, a traced push's step lines, piku's nginx site moved onto the bench's port, and the order and
medians of the wrk runs through nginx and straight to the container, and what CPU the processes of
a run used, and the counts a bench reads from the environment."""

import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import cpu_use  # noqa: E402
import proxy_overhead  # noqa: E402
from benchlib import count_from_environment  # noqa: E402
from deploy_steps import OUTSIDE, parse_steps  # noqa: E402
from pikulib import rendered  # noqa: E402
from redeploy_under_load import WrkSummary  # noqa: E402
from targets import at_least, at_most, format_table, measured  # noqa: E402
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
    assert measured("gunicorn ÷ direct", 0.88).cells() == ["gunicorn ÷ direct", "0.88", "", "", "", ""]


def test_the_table_is_markdown_with_aligned_columns():
    table = format_table([at_most("first deploy", [4.5], 4.0, piku=[4.0]), at_least("rps", 0.97, 0.95)])
    assert table.splitlines() == [
        "| step         | median | target   | met | piku   | minidokku ÷ piku |",
        "|--------------|--------|----------|-----|--------|------------------|",
        "| first deploy | 4.50 s | ≤ 4.00 s | no  | 4.00 s | 1.12             |",
        "| rps          | 0.97   | ≥ 0.95   | yes |        |                  |",
    ]


def test_failures_count_the_failed_requests_the_time_each_run_of_them_spans_and_what_each_got():
    probes = [
        Probe(0.0, 0.1, True),
        Probe(0.1, 0.2, False, answer="HTTP 502"),
        Probe(0.2, 0.5, False, answer="ReadTimeout: read timed out"),
        Probe(0.5, 0.6, True),
        Probe(1.0, 1.25, False, answer="another page"),
    ]
    assert failures(probes) == Failures(requests=5, failed=3, seconds=0.4 + 0.25, answers=(
        "HTTP 502 at +0.10 s, after 0.10 s",
        "ReadTimeout: read timed out at +0.20 s, after 0.30 s",
        "another page at +1.00 s, after 0.25 s",
    ))  # fmt: skip
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
    """Each round runs every path once, starting one path later than the round before, then the
    control: straight to the container beside a load of the CPU nginx used in the round. The ratio
    is the median of each round's through nginx ÷ the path asked about."""
    rates = {
        "published port": [100.0, 300.0, 200.0],
        "container address": [200.0, 180.0, 400.0, 360.0, 100.0, 80.0],  # each round's, then its control
        "through nginx": [190.0] * 3,
    }
    nginx_seconds = iter([1.0, 2.0, 1.5])  # of each 5 s run through nginx: 0.2, 0.4, 0.3 cores
    urls = {"http://127.0.0.1:32001/": "published port", "http://10.0.0.2:5000/": "container address"}
    asked, loads = [], []

    def measured(url, script, host, roots):
        assert roots == {"app": 4321, "nginx": 1234}
        path = urls.get(url, "through nginx")
        asked.append((path, host))
        rate = rates[path][sum(1 for p, _ in asked if p == path) - 1]
        summary = WrkSummary(requests=int(rate) * 5, non2xx=0, socket_errors={}, requests_per_second=rate,
                             p99_seconds=0.01)  # fmt: skip
        nginx = next(nginx_seconds) if path == "through nginx" else 0.0
        return summary, cpu_use.Use(elapsed=5.0, seconds={"app": rate * 5 * 300e-6, "nginx": nginx}, idle_seconds=2.0)

    @contextmanager
    def cpu_load(cores):
        loads.append(round(cores, 6))
        asked.append(("load", cores))
        yield

    monkeypatch.setattr(proxy_overhead, "routed_container", lambda bench, app: ("10.0.0.2:5000", 32001, 4321))
    monkeypatch.setattr(proxy_overhead, "measured", measured)
    monkeypatch.setattr(proxy_overhead.cpu_use, "cpu_load", cpu_load)
    bench = type("FakeBench", (), {"url": "http://127.0.0.1:25000/", "nginx_pid": 1234})()
    figures = proxy_overhead.measure(bench, "gunimeow", "gunicorn", tmp_path / "count.lua", rounds=3)
    assert [path for path, _ in asked] == [
        "published port", "container address", "through nginx", "load", "container address",
        "container address", "through nginx", "published port", "load", "container address",
        "through nginx", "published port", "container address", "load", "container address",
    ]  # fmt: skip
    assert loads == [0.2, 0.4, 0.3]
    assert {host for path, host in asked if path != "load"} == {"gunimeow.example.test"}
    assert (figures.published_address, figures.container_address) == ("127.0.0.1:32001", "10.0.0.2:5000")
    assert figures.ratio() == 0.95  # the median of the rounds' 0.95, 0.475 and 1.9
    assert figures.ratios() == [0.95, 190.0 / 400.0, 1.9]
    assert figures.quartiles() == "0.47-1.90"
    assert figures.requests_per_second("published port") == 200.0
    assert figures.ratio("published port") == 190.0 / 200.0
    assert figures.ratio("container address", "published port") == 0.75  # 0.5, 0.75, 2.0
    assert figures.ratio("container address", proxy_overhead.LOADED) == 0.9  # 0.9, 0.9, 0.8
    assert round(figures.cpu_per_request("through nginx", "app"), 9) == 300e-6
    assert round(figures.cpu_per_request("through nginx", "nginx"), 9) == round(
        1.5 / 950, 9
    )  # of 1/950, 2/950, 1.5/950
    assert figures.idle_cores("published port") == 0.4


def test_a_process_tree_counts_its_descendants_alone():
    processes = {1: (0, 9.0), 10: (1, 1.0), 11: (10, 0.5), 12: (10, 0.25), 20: (1, 4.0), 13: (11, 0.125)}
    assert cpu_use._tree_seconds(10, processes) == 1.875
    assert cpu_use._tree_seconds(20, processes) == 4.0
    assert cpu_use._tree_seconds(99, processes) == 0.0  # ended before the sample


def test_a_cpu_load_runs_on_one_core_at_most():
    with pytest.raises(ValueError, match="0 to 1"):
        with cpu_use.cpu_load(1.5):
            pass


def test_a_count_from_the_environment_is_a_whole_number_of_at_least_its_least(monkeypatch):
    monkeypatch.delenv("BENCH_SOMETHING", raising=False)
    assert count_from_environment("BENCH_SOMETHING", 15, least=2) == 15
    monkeypatch.setenv("BENCH_SOMETHING", "3")
    assert count_from_environment("BENCH_SOMETHING", 15, least=2) == 3
    for given in ("1", "0", "-4", "x", "2.5", ""):
        monkeypatch.setenv("BENCH_SOMETHING", given)
        with pytest.raises(SystemExit, match=f"BENCH_SOMETHING='{given}': give a whole number, at least 2"):
            count_from_environment("BENCH_SOMETHING", 15, least=2)
