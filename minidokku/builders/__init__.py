"""Builders turn a pushed tree into an app image. The buildpack builder is the only one so far."""

from dataclasses import dataclass

from minidokku.appjson import AppJson


@dataclass(frozen=True)
class BuildResult:
    image_id: str
    processes: dict[str, str]  # process type -> command
    app_json: AppJson  # the deploy settings of the app's app.json
    checks_file: str  # the legacy CHECKS file, "" when there is none
