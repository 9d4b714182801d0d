"""records/cron.py, pure: schedules as Dokku (robfig/cron) reads them, commands split as a shell
splits words without running one, app.json entries with Dokku's messages, the task ids."""

import datetime
import time

import pytest

from minidokku.errors import ValidationError
from minidokku.records import appjson, cron


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    "schedule, moment, due",
    [
        ("* * * * *", "2026-03-04 05:06", True),
        ("5 * * * *", "2026-03-04 05:05", True),
        ("5 * * * *", "2026-03-04 05:06", False),
        ("*/15 * * * *", "2026-03-04 05:45", True),
        ("*/15 * * * *", "2026-03-04 05:46", False),
        ("10-20/5 * * * *", "2026-03-04 05:15", True),
        ("10-20/5 * * * *", "2026-03-04 05:25", False),
        ("50/5 * * * *", "2026-03-04 05:55", True),  # N/step: from N to the highest
        ("1,2,30 * * * *", "2026-03-04 05:30", True),
        ("0 0 * * *", "2026-03-04 00:00", True),
        ("0 9 * jan-mar mon-fri", "2026-03-04 09:00", True),  # a Wednesday in March
        ("0 9 * JAN-FEB MON-FRI", "2026-03-04 09:00", False),
        ("0 9 * * sun", "2026-03-08 09:00", True),
        ("0 9 * * 0", "2026-03-08 09:00", True),
        ("0 9 1 * 1", "2026-03-01 09:00", True),  # both day fields restricted: either matches
        ("0 9 1 * 1", "2026-03-02 09:00", True),  # a Monday
        ("0 9 1 * 1", "2026-03-03 09:00", False),
        ("0 9 1 * *", "2026-03-02 09:00", False),  # one restricted: it alone decides
        ("0 9 ? * 1", "2026-03-02 09:00", True),
        ("0 9 */2 * 1", "2026-03-02 09:00", True),  # a step is a restriction, as robfig's
        ("@daily", "2026-03-04 00:00", True),
        ("@midnight", "2026-03-04 00:01", False),
        ("@hourly", "2026-03-04 07:00", True),
        ("@weekly", "2026-03-08 00:00", True),
        ("@monthly", "2026-03-01 00:00", True),
        ("@yearly", "2026-01-01 00:00", True),
        ("@annually", "2026-02-01 00:00", False),
        ("5 5 5 5 5", "2026-05-05 05:05", True),  # Dokku's own test schedule
    ],
)
def test_a_schedule_is_due_in_the_minutes_cron_says(schedule, moment, due):
    assert cron.parse_schedule(schedule).matches(at(moment)) is due


@pytest.mark.parametrize(
    "schedule, reason",
    [
        ("", "empty spec string"),
        ("@nonstandard", "unrecognized descriptor: @nonstandard"),
        ("@every 30s", "unrecognized descriptor: @every 30s"),  # nothing more often than each minute
        ("0 5 * * * *", r"expected exactly 5 fields, found 6: \[0 5 \* \* \* \*\]"),  # seconds
        ("* * * *", "expected exactly 5 fields, found 4"),
        ("60 * * * *", r"end of range \(60\) above maximum \(59\): 60"),
        ("* 24 * * *", r"end of range \(24\) above maximum \(23\)"),
        ("* * 0 * *", r"beginning of range \(0\) below minimum \(1\): 0"),
        ("* * * 13 *", r"end of range \(13\) above maximum \(12\)"),
        ("* * * * 7", r"end of range \(7\) above maximum \(6\)"),
        ("5-3 * * * *", r"beginning of range \(5\) beyond end of range \(3\): 5-3"),
        ("*/0 * * * *", "step of range should be a positive number: \\*/0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: \\*/2/3"),
        ("x * * * *", "failed to parse int from x"),
        ("* * * foo *", "failed to parse int from foo"),
        ("٣ * * * *", "failed to parse int from"),
    ],
)
def test_a_malformed_schedule_is_refused_with_robfig_cron_reason(schedule, reason):
    with pytest.raises(ValueError, match=reason):
        cron.parse_schedule(schedule)


@pytest.mark.parametrize(
    "command, words",
    [
        ("python3 task.py schedule", ["python3", "task.py", "schedule"]),
        ("sh -c 'echo CRON_OK; echo hi > /tmp/x.txt'", ["sh", "-c", "echo CRON_OK; echo hi > /tmp/x.txt"]),
        ("node -e 'console.log(1)'", ["node", "-e", "console.log(1)"]),
        ('echo "a b" c\\ d', ["echo", "a b", "c d"]),
        ('echo "say \\"hi\\""', ["echo", 'say "hi"']),
        ("echo ''", ["echo", ""]),
        ("true", ["true"]),
    ],
)
def test_a_command_is_split_into_words_as_a_shell_would(command, words):
    assert cron.command_words(command) == words


@pytest.mark.parametrize(
    "command",
    ["echo CRON_OK; echo hi", "cmd1 && cmd2", "cmd | other", "cmd > file", "cmd $(other)", "echo $HOME",
     'echo "$HOME"', "echo `id`", "echo 'open"],
)  # fmt: skip
def test_shell_syntax_in_a_command_is_refused_as_dokku_refuses_it(command):
    with pytest.raises(ValueError):
        cron.command_words(command)


def test_app_json_cron_entries_are_kept_normalised_with_forbid_by_default():
    parsed = appjson.parse('{"cron": [{"command": "python3 task.py", "schedule": "@daily", "other": 1},'
                           ' {"command": "true", "schedule": "* * * * *", "concurrency_policy": "replace",'
                           ' "maintenance": true}]}')  # fmt: skip
    assert parsed.cron == [
        {"command": "python3 task.py", "schedule": "@daily", "maintenance": False, "concurrency_policy": "forbid"},
        {"command": "true", "schedule": "* * * * *", "maintenance": True, "concurrency_policy": "replace"},
    ]


@pytest.mark.parametrize(
    "cron_section, message",
    [
        ('[{"key": "value"}]', r"^app.json: Missing cron task command \(index 0\)$"),
        ('[{"command": "x"}]', r"^app.json: Missing cron schedule \(index 0\)$"),
        (
            '[{"command": "python3 task.py", "schedule": "@nonstandard"}]',
            r"^app.json: Invalid cron schedule \(schedule @nonstandard\): unrecognized descriptor: @nonstandard$",
        ),
        (
            '[{"command": "python3 task.py", "schedule": "0 5 * * * *"}]',
            r"^app.json: Invalid cron schedule \(schedule 0 5 \* \* \* \*\): expected exactly 5 fields",
        ),
        ('[{"command": "a; b", "schedule": "@daily"}]', r'^app.json: Invalid cron command \(command "a; b"\): '),
        (
            '[{"command": "a", "schedule": "@daily", "concurrency_policy": "sometimes"}]',
            r"^app.json: Invalid cron concurrency policy \(schedule @daily\): sometimes$",
        ),
        ('[{"command": "a", "schedule": "@daily", "maintenance": "yes"}]', "maintenance must be true or false"),
        ('{"command": "a"}', "cron must be a list of objects"),
        ('["a"]', "cron must be a list of objects"),
        ('[{"command": 3, "schedule": "@daily"}]', r"Missing cron task command \(index 0\)"),
        ('[{"command": "echo \\u001b[2J\\rfake", "schedule": "@daily"}]', "holds no control characters"),
        ('[{"command": "true", "schedule": "@daily\\u0007"}]', "holds no control characters"),
    ],
)
def test_a_bad_cron_entry_fails_the_deploy_with_dokkus_message(cron_section, message):
    with pytest.raises(ValidationError, match=message):
        appjson.parse(f'{{"cron": {cron_section}}}')


def test_app_json_cron_is_bounded_in_tasks_and_length():
    many = ",".join(['{"command": "true", "schedule": "@daily"}'] * (cron.MAX_TASKS + 1))
    with pytest.raises(ValidationError, match=f"cron holds {cron.MAX_TASKS + 1} tasks; at most {cron.MAX_TASKS}"):
        appjson.parse(f'{{"cron": [{many}]}}')
    long_command = "x" * (cron.MAX_COMMAND + 1)
    with pytest.raises(ValidationError, match="a command has at most"):
        appjson.parse(f'{{"cron": [{{"command": "{long_command}", "schedule": "@daily"}}]}}')
    with pytest.raises(ValidationError, match="a schedule 100"):
        appjson.parse(f'{{"cron": [{{"command": "true", "schedule": "{"1," * 60}2 * * * *"}}]}}')


def test_a_task_id_is_dokkus_base36_of_app_command_and_schedule():
    identifier = cron.task_id("node-js-app", "node index.js", "@daily")
    decoded = int(identifier, 36).to_bytes((int(identifier, 36).bit_length() + 7) // 8, "big")
    assert decoded == b"node-js-app===node index.js===@daily"
    assert set(identifier) <= set(cron.DIGITS)
    assert cron.task_id("a", "b", "c") != cron.task_id("a", "b", "d")


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _runs_in(schedule, start_utc, hours=6):
    parsed = cron.parse_schedule(schedule)
    start = int(start_utc.timestamp())
    return [b for b in range(start, start + hours * 3600, 60) if parsed.matches(datetime.datetime.fromtimestamp(b))]


@pytest.mark.parametrize("night", [datetime.datetime(2026, 10, 24, 22, tzinfo=datetime.UTC),  # 02:xx twice
                                   datetime.datetime(2026, 3, 28, 22, tzinfo=datetime.UTC)])  # no 02:xx  # fmt: skip
def test_across_a_summer_time_change_a_fixed_time_runs_once_and_a_wildcard_each_minute(berlin, night):
    assert len(_runs_in("30 2 * * *", night)) == 1
    assert len(_runs_in("* * * * *", night)) == 6 * 60
