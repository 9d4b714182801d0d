from minidokku.build.builders.buildpacks import default_process_types


def test_empty_release_yaml_has_no_defaults():
    assert default_process_types("--- {}\n") == {}
    assert default_process_types("") == {}


def test_default_process_types_are_read_and_unquoted():
    release = (
        "---\n"
        "default_process_types:\n"
        "  web: gunicorn app:app\n"
        "  worker: 'celery -A app worker'\n"
        '  clock: "python clock.py --every 5"\n'
    )
    assert default_process_types(release) == {
        "web": "gunicorn app:app",
        "worker": "celery -A app worker",
        "clock": "python clock.py --every 5",
    }


def test_other_top_level_keys_are_ignored():
    release = (
        "---\n"
        "addons:\n"
        "  - heroku-postgresql\n"
        "config_vars:\n"
        "  PATH: /app/.heroku/python/bin:/usr/bin\n"
        "  # a comment\n"
        "default_process_types:\n"
        "\n"
        "  web: bin/start-web\n"
        "  # commented: out\n"
        "other:\n"
        "  ignored: value\n"
    )
    assert default_process_types(release) == {"web": "bin/start-web"}


def test_values_keep_inner_quotes_and_trailing_spaces_are_trimmed():
    release = "default_process_types:\n  web: sh -c 'echo \"hi\"'   \n  odd: 'unbalanced\n"
    assert default_process_types(release) == {"web": "sh -c 'echo \"hi\"'", "odd": "'unbalanced"}
