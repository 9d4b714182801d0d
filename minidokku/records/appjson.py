"""app.json, the parts a deploy uses (Dokku's format): `formation`, `healthchecks`,
`scripts.dokku.predeploy|postdeploy` and `cron` (records/cron.py). Everything else in the file is left alone."""

import json
from dataclasses import dataclass, field

from minidokku.errors import ValidationError
from minidokku.records import cron, procfile

CHECK_TYPES = ("startup", "liveness", "readiness")
CHECK_NUMBERS = ("attempts", "timeout", "wait", "initialDelay", "uptime", "port")
MAX_QUANTITY = 100


@dataclass(frozen=True)
class AppJson:
    formation: dict[str, int] = field(default_factory=dict)  # process type -> quantity
    healthchecks: dict[str, list[dict]] = field(default_factory=dict)  # process type -> checks
    predeploy: str = ""
    postdeploy: str = ""
    cron: list[dict] = field(default_factory=list)  # records/cron.entries: {command, schedule, ...}


def parse(text: str) -> AppJson:
    """Reads app.json text (empty text: an empty AppJson); raises ValidationError naming the problem."""
    if not text.strip():
        return AppJson()
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ValidationError(f"app.json is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValidationError("app.json must hold a JSON object")
    scripts = _object(document, "scripts")
    dokku_scripts = _object(scripts, "dokku", "scripts.dokku")
    return AppJson(
        formation=_formation(_object(document, "formation")),
        healthchecks=_healthchecks(_object(document, "healthchecks")),
        predeploy=_string(dokku_scripts, "predeploy", "scripts.dokku.predeploy"),
        postdeploy=_string(dokku_scripts, "postdeploy", "scripts.dokku.postdeploy"),
        cron=cron.entries(document.get("cron")),
    )


def _object(parent: dict, key: str, label: str = "") -> dict:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise ValidationError(f"app.json: {label or key} must be an object")
    return value


def _string(parent: dict, key: str, label: str) -> str:
    value = parent.get(key, "")
    if not isinstance(value, str):
        raise ValidationError(f"app.json: {label} must be a string")
    return value.strip()


def _formation(section: dict) -> dict[str, int]:
    formation = {}
    for process_type, settings in section.items():
        procfile.validate_process_type(process_type)
        quantity = settings.get("quantity") if isinstance(settings, dict) else None
        if quantity is None:
            continue
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= MAX_QUANTITY:
            raise ValidationError(
                f"app.json: formation.{process_type}.quantity must be a whole number from 0 to {MAX_QUANTITY}"
            )
        formation[process_type] = quantity
    return formation


def _healthchecks(section: dict) -> dict[str, list[dict]]:
    checks = {}
    for process_type, entries in section.items():
        procfile.validate_process_type(process_type)
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise ValidationError(f"app.json: healthchecks.{process_type} must be a list of objects")
        for entry in entries:
            _validate_check(process_type, entry)
        checks[process_type] = entries
    return checks


def _validate_check(process_type: str, entry: dict) -> None:
    where = f"app.json: healthchecks.{process_type}"
    if entry.get("type", "startup") not in CHECK_TYPES:
        raise ValidationError(f"{where}: type must be one of {', '.join(CHECK_TYPES)}")
    for key in CHECK_NUMBERS:
        value = entry.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValidationError(f"{where}: {key} must be a whole number of 0 or more")
    for key in ("path", "content", "name"):
        if not isinstance(entry.get(key, ""), str):
            raise ValidationError(f"{where}: {key} must be a string")
    path = entry.get("path", "")
    if path and not path.startswith("/"):
        raise ValidationError(f"{where}: path must start with / (got {path[:40]!r})")
    if entry.get("content") and not path:
        raise ValidationError(f"{where}: content is looked for in the page at path; give a path too")
    if not isinstance(entry.get("listening", False), bool):
        raise ValidationError(f"{where}: listening must be true or false")
    if "command" in entry:
        raise ValidationError(f"{where}: command checks are not supported; use path, content, uptime or listening")
