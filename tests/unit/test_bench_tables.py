"""The bench's pure parts (bench/): the issue's table and its ratios, the failures a request loop
saw, a traced push's step lines, and piku's nginx site moved onto the bench's port."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from deploy_steps import OUTSIDE, parse_steps  # noqa: E402
from pikulib import rendered  # noqa: E402
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
