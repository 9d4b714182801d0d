"""Plugins: what is installed (registry), the trigger points (triggers), install/update, and the
built-in postgres service."""
