"""Builders turn a pushed tree into an app image. The buildpack builder is the only one so far."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BuildResult:
    image_id: str
    processes: dict[str, str]  # process type -> command
