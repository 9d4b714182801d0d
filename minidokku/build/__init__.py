"""Turning a pushed tree into an image: the git repo, the pushed tree's settings files (read once
per build), the builders (buildpacks, Dockerfile), the buildpack choice, the stack image."""
