"""The bundled PostgreSQL service plugin."""
