"""What is stored per app, and the formats users write: releases, scale, properties, docker
options, resources, app.json, Procfile, env files, names."""
