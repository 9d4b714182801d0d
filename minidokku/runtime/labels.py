"""Labels on every container and volume minidokku makes (Dokku's names), so they can be found again."""

APP = "com.dokku.app-name"
PROCESS_TYPE = "com.dokku.process-type"
DYNO = "com.dokku.dyno"
RELEASE = "com.dokku.release"
ACTIVE_DEADLINE = "com.dokku.active-deadline-seconds"  # a one-off's: how long it may run (run:retire)
CRON_ID = "com.dokku.cron-id"  # a cron task's one-off: the task's id (ops/cron.py)
ROLE = "com.dokku.role"  # "build", "process" (a Procfile process) or "run" (one-off); images inherit
# the build container's labels, so every container sets its role explicitly
BUILD_ROLE = "build"  # a buildpack build's container
SERVICE = "com.minidokku.service"  # a service's container, volume and network: "postgres/NAME"
BUILDPACKS_DIGEST = "com.minidokku.buildpacks-digest"  # a buildpack build's image: what built it (build_base.py)
BUILD_NETWORK = "com.minidokku.build-network"  # what holds an app's builds' network: the app (runtime/build_network.py)
BUILD_NETWORK_ID = "com.minidokku.build-network-id"  # its ID: which app of that name may join it
NETWORK = "com.minidokku.network"  # the network every app's containers join by default: "apps"
WEB_NETWORK = "com.minidokku.web-network"  # what holds a web container's network: the app (runtime/web_network.py)
WEB_NETWORK_FIT = "com.minidokku.web-network-fit"  # what it was made for: which start may take it
