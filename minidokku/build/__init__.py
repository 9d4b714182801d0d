"""Turning a pushed tree into an image: the git repo, the builders (buildpacks, Dockerfile), the
buildpack choice, the stack image."""
