"""How requests reach an app: nginx sites, domains, certificates, port mappings, nginx settings."""
