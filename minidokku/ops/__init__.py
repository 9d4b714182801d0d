"""The use cases: what a command does, from a push to a restart, in terms of records, builds, the
scheduler and the proxy. Nothing here speaks to Docker or nginx directly."""
