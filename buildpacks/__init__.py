"""The buildpacks shipped with minidokku. This file makes the folder the package
`minidokku.buildpacks` (see pyproject.toml), so the buildpacks travel inside the zipapp."""
