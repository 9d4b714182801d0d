#!/bin/sh
# Sets a fresh Debian machine up for the test suite: the system packages the tests drive for
# real (Docker engine, nginx, sshd, git, debootstrap, a registry) and a running dockerd. Idempotent.
set -eu

need=""
for pkg in docker.io nginx openssh-server openssh-client git debootstrap curl python3-venv ca-certificates lego pebble \
  docker-registry apache2-utils busybox-static; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need="$need $pkg"
done
# docker.io only when no engine is there already (a machine may have Docker's own packages).
if command -v dockerd >/dev/null 2>&1; then need=$(echo "$need" | sed 's/ docker.io//'); fi
if [ -n "$need" ]; then
  echo "-----> Installing:$need"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

docker_answers() {
  curl -fsS --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1
}
if ! docker_answers; then
  echo "-----> Starting dockerd (log: /var/log/minidokku-test-dockerd.log)"
  # its own session: it outlives the shell (and process group) that started it
  setsid nohup dockerd >/var/log/minidokku-test-dockerd.log 2>&1 &
  i=0
  until docker_answers; do
    i=$((i + 1))
    [ "$i" -le 60 ] || { echo " !     dockerd did not answer within 30 s" >&2; tail -20 /var/log/minidokku-test-dockerd.log >&2; exit 1; }
    sleep 0.5
  done
fi
mkdir -p /run/sshd

# Dockerfile builds run inside a pids-limited parent cgroup (minidokku/build/build_cgroup.py; tenants'
# builds only there), as install.sh prepares it. A cgroupfs directory is gone after a reboot.
cgroup=$(curl -fsS --unix-socket /var/run/docker.sock http://localhost/info |
  python3 -c 'import json, sys; i = json.load(sys.stdin); print(i.get("CgroupDriver") or "cgroupfs", i.get("CgroupVersion") or "1")')
if [ "${cgroup% *}" = systemd ]; then
  printf '[Slice]\nTasksAccounting=yes\nTasksMax=2048\n' >/etc/systemd/system/minidokku-builds.slice
  systemctl daemon-reload
  systemctl start minidokku-builds.slice
else
  if [ "${cgroup#* }" = 2 ]; then
    parent=/sys/fs/cgroup/minidokku-builds
    grep -qw pids /sys/fs/cgroup/cgroup.subtree_control || echo +pids >/sys/fs/cgroup/cgroup.subtree_control
  else
    parent=/sys/fs/cgroup/pids/minidokku-builds
  fi
  mkdir -p "$parent"
  echo 2048 >"$parent/pids.max"
fi
