#!/bin/sh
# minidokku installer: sets up a Debian/Ubuntu host to run minidokku.
#
#   curl -fsSL https://.../install.sh | sudo sh
#
# Safe to run again: every step checks before it changes anything.
#
# Environment overrides:
#   MINIDOKKU_PYZ=/path/minidokku.pyz   install this file instead of downloading
#   MINIDOKKU_RELEASE_URL=URL           download minidokku.pyz from URL
#   MINIDOKKU_SKIP_STACK=1              do not build the base image
#   MINIDOKKU_BUILD_PIDS=N              processes all Dockerfile builds may run together (2048)
#   MINIDOKKU_BUILD_OPTIONS="OPTION"    a global build docker-option, added before the sample builds
#                                       (behind a TLS proxy: "-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro")
#   MINIDOKKU_SAMPLE=0                  do not deploy the sample app catmeow
set -eu
# the laptop client's variables: with them every `dokku` below would go to another server
unset DOKKU_HOST DOKKU_PORT

# sudo/su without a login shell may leave the sbin directories off PATH.
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH

PYZ_DIR=/usr/local/lib/minidokku
PYZ_PATH=$PYZ_DIR/minidokku.pyz
# Root runs plugins: they live where only root can change them, not under the dokku user's home.
LIB_ROOT=/var/lib/minidokku
PLUGIN_PATH=$LIB_ROOT/plugins
# storage:create's directories, where Dokku keeps them: the dokku user's alone.
STORAGE_ROOT=/var/lib/dokku/data/storage
# written when this install made the dokku user's home: the sample app is a first install's, never
# an upgrade's (removed once the sample's own record, DOKKU_HOME/SAMPLE, is there)
SAMPLE_PENDING=$LIB_ROOT/sample-pending
NGINX_CONF=/etc/nginx/conf.d/minidokku.conf
SUDOERS_FILE=/etc/sudoers.d/minidokku
RESTORE_UNIT=/etc/systemd/system/minidokku-restore.service
# The pids limit of the parent cgroup of Dockerfile builds (BUILD_CGROUP, below)
BUILD_PIDS=${MINIDOKKU_BUILD_PIDS:-2048}
DEFAULT_RELEASE_URL=https://github.com/minidokku/minidokku/releases/latest/download/minidokku.pyz

# ---------------------------------------------------------------- services
# Starting docker, sshd, nginx and minidokku's daemon, and the helpers they need: install.sh runs
# this text (eval, below), and writes it into the boot script /etc/init.d/minidokku where SysV init
# is, so a boot starts each service as the install did, with the same fallbacks.
service_functions() {
	cat <<'EOF'
DOKKU_USER=dokku
DOKKU_HOME=/home/dokku
DOKKU_BIN=/usr/local/bin/dokku
DOCKER_SOCK=/var/run/docker.sock
DOCKERD_LOG=/var/log/minidokku-dockerd.log
SSHD_LOG=/var/log/minidokku-sshd.log
NGINX_LOG=/var/log/nginx/error.log
NGINX_PID=/run/nginx.pid
# the daemon's own log is DOKKU_HOME/.cron/LOG; this one has what it prints before it opens that
DAEMON_LOG=/var/log/minidokku-daemon.log
DAEMON_LOCK=$DOKKU_HOME/.cron/LOCK
DAEMON_PID=$DOKKU_HOME/.cron/PID
CRON_SERVICE=minidokku-cron.service
# what each way of starting a service printed
SERVICES_LOG=/var/log/minidokku-services.log
INIT_D=/etc/init.d
SERVICE_WAIT=30 # seconds a started service has to answer
# the parent cgroup of Dockerfile builds (the BUILD_CGROUP setting's default)
BUILD_CGROUP=minidokku-builds

step() { echo "-----> $*"; }
info() { echo "       $*"; }
die() {
	echo " !     $*" >&2
	exit 1
}

# as_dokku COMMAND...: COMMAND as the dokku user, ended after DOKKU_WAIT seconds (a FIFO or a
# lock it put in its home blocks no root step: a timeout counts as a failure), in a session of its
# own with no terminal (no dokku process holds root's: it could inject input into it)
DOKKU_WAIT=10
as_dokku() { runuser -u "$DOKKU_USER" -- setsid -w timeout "$DOKKU_WAIT" "$@" </dev/null; }

has_systemd() { [ -d /run/systemd/system ]; }

docker_ping() {
	command -v curl >/dev/null 2>&1 &&
		[ "$(curl -fsS --max-time 5 --unix-socket "$DOCKER_SOCK" http://localhost/_ping 2>/dev/null)" = OK ]
}

# ssh_answers: one of sshd's listen addresses (sshd -T) answers with an SSH banner
ssh_answers() {
	sshd -T 2>/dev/null | python3 -I -c '
import socket, sys
for line in sys.stdin:
    if not line.startswith("listenaddress "):
        continue
    host, _, port = line.split()[1].rpartition(":")
    host = {"0.0.0.0": "127.0.0.1", "[::]": "::1"}.get(host, host.strip("[]"))
    try:
        with socket.create_connection((host, int(port)), timeout=3) as connection:
            if connection.makefile("rb").readline(256).startswith(b"SSH-"):
                sys.exit(0)
    except OSError:
        continue
sys.exit(1)
'
}

# nginx_answers: port 80 answers with the header X-Minidokku of minidokku's own default server (a
# name no app has): not some other program on port 80
nginx_answers() {
	curl -s -o /dev/null -D - --max-time 3 -H "Host: $NGINX_PROBE_HOST" http://127.0.0.1/ 2>/dev/null |
		grep -qi '^x-minidokku: default'
}
NGINX_PROBE_HOST=minidokku-check.invalid

# nginx_master_runs: NGINX_PID names a process running nginx (root's file: nginx writes it)
nginx_master_runs() {
	nm_pid=$(head -c 32 "$NGINX_PID" 2>/dev/null) || return 1
	plain_number "$nm_pid" || return 1
	case $(readlink "/proc/$nm_pid/exe" 2>/dev/null) in
	*/nginx | */nginx" (deleted)") return 0 ;;
	*) return 1 ;;
	esac
}

# plain_number TEXT: TEXT is digits only
plain_number() {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	*) return 0 ;;
	esac
}

# daemon_runs: a daemon holds its lock (asked as the dokku user: root opens nothing in its home;
# no answer within DOKKU_WAIT seconds counts as not running)
daemon_runs() {
	dr_status=0
	as_dokku flock -n -E 75 "$DAEMON_LOCK" true >/dev/null 2>&1 || dr_status=$?
	[ "$dr_status" = 75 ]
}

# has_apps: the root holds an app (a folder with a HEAD, as minidokku counts them)
has_apps() {
	for ha_head in "$DOKKU_HOME"/*/HEAD; do
		[ -f "$ha_head" ] && return 0
	done
	return 1
}

# daemon_answers: the daemon runs; with no app it ends at once by design (ops/crond.py), so there
# is nothing to wait for
daemon_answers() { daemon_runs || ! has_apps; }

# engine_cgroup: prints the engine's cgroup driver and version ("cgroupfs 1", "systemd 2")
engine_cgroup() {
	curl -fsS --unix-socket "$DOCKER_SOCK" http://localhost/info |
		python3 -I -c 'import json, sys; i = json.load(sys.stdin); print(i.get("CgroupDriver") or "cgroupfs", i.get("CgroupVersion") or "1")'
}

# ensure_pids_max DIR: DIR (a cgroup) exists, with $BUILD_PIDS in its pids.max
ensure_pids_max() {
	[ -d "$1" ] || { mkdir "$1" && info "created $1"; }
	if [ "$(cat "$1/pids.max")" != "$BUILD_PIDS" ]; then
		echo "$BUILD_PIDS" >"$1/pids.max"
		info "set $1/pids.max to $BUILD_PIDS"
	else
		info "$1/pids.max already $BUILD_PIDS"
	fi
}

# make_build_cgroup VERSION: the parent cgroup of Dockerfile builds on cgroupfs (cgroup VERSION 1
# or 2), with its pids limit. A reboot removes it: the boot script makes it again.
make_build_cgroup() {
	if [ "$1" = 2 ]; then
		if ! grep -qw pids /sys/fs/cgroup/cgroup.subtree_control; then
			echo +pids >/sys/fs/cgroup/cgroup.subtree_control
			info "enabled the pids controller below /sys/fs/cgroup"
		fi
		ensure_pids_max "/sys/fs/cgroup/$BUILD_CGROUP"
	else
		[ -d /sys/fs/cgroup/pids ] || die "no pids cgroup hierarchy at /sys/fs/cgroup/pids"
		ensure_pids_max "/sys/fs/cgroup/pids/$BUILD_CGROUP"
	fi
}

# wait_until SECONDS CHECK...: CHECK passes within SECONDS (asked every half second)
wait_until() {
	wu_left=$(($1 * 2))
	shift
	until "$@"; do
		wu_left=$((wu_left - 1))
		[ "$wu_left" -gt 0 ] || return 1
		sleep 0.5
	done
}

# try_start NAME CHECK WAY COMMAND...: runs COMMAND (its output goes to SERVICES_LOG), then waits
# until CHECK passes; says in one line that NAME started by WAY, or why this way failed.
try_start() {
	ts_name=$1 ts_check=$2 ts_way=$3
	shift 3
	echo "$(date '+%F %T') $ts_name, $ts_way: $*" >>"$SERVICES_LOG"
	if ! "$@" >>"$SERVICES_LOG" 2>&1 </dev/null; then
		info "$ts_name: $ts_way failed: $(tail -n 1 "$SERVICES_LOG")"
		return 1
	fi
	if ! wait_until "$SERVICE_WAIT" "$ts_check"; then
		info "$ts_name: $ts_way ran, but $ts_name did not answer within $SERVICE_WAIT s"
		return 1
	fi
	info "started $ts_name ($ts_way)"
}

# start_service NAME CHECK UNIT SCRIPT DIRECT LOG: NAME answers CHECK; if it does not, it is
# started by systemd's UNIT, else (or when that fails) by INIT_D/SCRIPT, else by the function
# DIRECT, the next way only when one fails. None works: one line names NAME and its LOG.
start_service() {
	if "$2"; then
		info "$1 is running"
		return 0
	fi
	if has_systemd && try_start "$1" "$2" "systemctl start $3" systemctl start "$3"; then
		return 0
	fi
	if [ -x "$INIT_D/$4" ] && try_start "$1" "$2" "$INIT_D/$4 start" "$INIT_D/$4" start; then
		return 0
	fi
	try_start "$1" "$2" "$5 directly" "run_$5" ||
		die "$1 did not start, neither by systemd, SysV init nor directly: see $6 and $SERVICES_LOG"
}

# Under systemd a running daemon may still be disabled; make it survive reboots.
ensure_enabled() {
	if has_systemd && ! systemctl is-enabled --quiet "$1" 2>/dev/null; then
		systemctl enable "$1"
		info "enabled $1 at boot"
	fi
}

# The direct ways, each in a session of its own: nothing that ends the installer (or the boot
# script) ends the service.
run_dockerd() { setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null & }

run_sshd() {
	ssh-keygen -A >/dev/null
	mkdir -p /run/sshd
	setsid /usr/sbin/sshd -E "$SSHD_LOG"
}

run_nginx() { setsid nginx; }

# the dokku user's, in its home; setsid -w: its status is the daemon's
run_daemon() {
	(cd "$DOKKU_HOME" && exec runuser -u "$DOKKU_USER" -- setsid -w "$DOKKU_BIN" cron:daemon) \
		</dev/null >>"$DAEMON_LOG" 2>&1 &
}

start_docker() {
	start_service docker docker_ping docker docker dockerd "$DOCKERD_LOG"
	ensure_enabled docker
}

start_sshd() {
	start_service sshd ssh_answers ssh ssh sshd "$SSHD_LOG"
	ensure_enabled ssh
}

# start_nginx [reload]: started, or reloaded when it runs and "reload" is asked
start_nginx() {
	if [ "${1:-}" = reload ] && nginx_master_runs; then
		info "reloading nginx"
		nginx -t && nginx -s reload
		wait_until "$SERVICE_WAIT" nginx_answers ||
			die "nginx reloaded, but port 80 does not answer as minidokku's nginx: see $NGINX_LOG"
	else
		start_service nginx nginx_answers nginx nginx nginx "$NGINX_LOG"
	fi
	ensure_enabled nginx
}

# The daemon of the default root: by its systemd unit where install.sh wrote one, else directly.
start_daemon() {
	if daemon_runs; then
		info "the minidokku daemon is running"
		return 0
	fi
	if has_systemd && try_start "the minidokku daemon" daemon_answers "systemctl start $CRON_SERVICE" \
		systemctl start "$CRON_SERVICE"; then
		return 0
	fi
	try_start "the minidokku daemon" daemon_answers "dokku cron:daemon directly" run_daemon ||
		die "the minidokku daemon did not start: see $DAEMON_LOG and $DOKKU_HOME/.cron/LOG"
}

# stop_daemon: the running daemon ends (read and signalled by the dokku user: a pid file in its
# home names no other user's process to root; only a plain number is taken). One that does not
# end is the dokku user's own process: said, and the rest goes on.
stop_daemon() {
	daemon_runs || return 0
	sd_pid=$(as_dokku head -c 32 "$DAEMON_PID" 2>/dev/null) || sd_pid=
	if plain_number "$sd_pid"; then
		as_dokku kill "$sd_pid" 2>/dev/null || true
	fi
	wait_until "$SERVICE_WAIT" daemon_stopped ||
		info "the minidokku daemon did not stop (a process of $DOKKU_USER holds $DAEMON_LOCK); going on"
}

daemon_stopped() { ! daemon_runs; }
EOF
}
eval "$(service_functions)"
BUILD_SLICE_UNIT=/etc/systemd/system/$BUILD_CGROUP.slice

NGINX_CHANGED=no
PROGRAM_CHANGED=no
CHANGED=no
BOOT_NOTE=
PENDING=
WORKDIR=

cleanup() {
	[ -z "$PENDING" ] || rm -f "$PENDING"
	[ -z "$WORKDIR" ] || rm -rf "$WORKDIR"
}

# ---------------------------------------------------------------- helpers

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

python_ok() {
	po_python=$(system_python)
	[ -n "$po_python" ] && "$po_python" -I -c 'import sys; sys.exit(sys.version_info < (3,9))'
}

# system_python: the python3 the program runs on: Debian's /usr/bin/python3 where there is one
# (root's PATH may find a python of root's own first, such as a pyenv shim under /root, which the
# dokku user cannot run), else the first python3 on PATH.
system_python() {
	if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3 || true; fi
}

# ensure_perms PATH MODE OWNER: fix mode/owner of PATH; sets CHANGED=yes if it did.
ensure_perms() {
	if [ "$(stat -c %a "$1")" != "$2" ]; then
		chmod "$2" "$1"
		CHANGED=yes
	fi
	if [ "$(stat -c %U:%G "$1")" != "$3" ]; then
		chown "$3" "$1"
		CHANGED=yes
	fi
}

# put_file DEST MODE OWNER [VALIDATOR...] < CONTENT
# (CONTENT as a heredoc, not a pipe: a piped put_file would run in a subshell and lose CHANGED)
# Writes stdin to DEST only when content, mode or owner differ, and sets
# CHANGED=yes|no. New content is copied next to DEST and renamed into place so
# nothing ever reads a half-written file; VALIDATOR (if any) is run with that
# copy's path appended and must succeed before the rename.
put_file() {
	pf_dest=$1 pf_mode=$2 pf_owner=$3
	shift 3
	CHANGED=no
	cat >"$WORKDIR/staged"
	if [ -f "$pf_dest" ] && cmp -s "$WORKDIR/staged" "$pf_dest"; then
		ensure_perms "$pf_dest" "$pf_mode" "$pf_owner"
		return 0
	fi
	PENDING=$(mktemp "$pf_dest.XXXXXX")
	cat "$WORKDIR/staged" >"$PENDING"
	if [ $# -gt 0 ] && ! "$@" "$PENDING" >/dev/null; then
		die "refusing to install $pf_dest: '$*' rejected the new content"
	fi
	chmod "$pf_mode" "$PENDING"
	chown "$pf_owner" "$PENDING"
	mv -f "$PENDING" "$pf_dest"
	PENDING=
	CHANGED=yes
}

# ensure_dokku_mode PATH MODE: PATH, inside the dokku user's home, becomes that user's (chown -h:
# never through a link) with MODE, set by the user itself; sets CHANGED=yes if it changed.
ensure_dokku_mode() {
	if [ "$(stat -c %U:%G "$1")" != "$DOKKU_USER:$DOKKU_USER" ]; then
		chown -h "$DOKKU_USER:$DOKKU_USER" "$1"
		CHANGED=yes
	fi
	if [ "$(stat -c %a "$1")" != "$2" ]; then
		as_dokku chmod "$2" "$1"
		CHANGED=yes
	fi
}

# ensure_dir PATH MODE OWNER
ensure_dir() {
	CHANGED=no
	if [ ! -d "$1" ]; then
		mkdir -p "$1"
		CHANGED=yes
	fi
	ensure_perms "$1" "$2" "$3"
}

report() { # report WHAT: one line saying whether the last put_file/ensure_* changed WHAT
	if [ "$CHANGED" = yes ]; then
		info "wrote $1"
	else
		info "$1 already up to date"
	fi
}

# ------------------------------------------------------------------ steps

check_host() {
	[ "$(id -u)" -eq 0 ] || die "install.sh must be run as root (try: sudo sh install.sh)"
	# it goes into the boot script and the builds' slice unit: a number (or "max") only
	[ "$BUILD_PIDS" = max ] || plain_number "$BUILD_PIDS" ||
		die "MINIDOKKU_BUILD_PIDS=$BUILD_PIDS: a number of processes (or max), please"
	if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
		die "install.sh supports only Debian or Ubuntu (apt-get not found)"
	fi
}

ensure_packages() {
	step "Checking OS packages"
	missing=
	# curl asks the services whether they answer; lego is the ACME client of letsencrypt:*.
	for pkg in git nginx openssh-server sudo debootstrap ca-certificates curl lego; do
		pkg_installed "$pkg" || missing="$missing $pkg"
	done
	python_ok || missing="$missing python3"
	if ! docker_ping && ! command -v dockerd >/dev/null 2>&1; then
		missing="$missing docker.io"
	fi

	if [ -z "$missing" ]; then
		info "already installed"
	else
		info "installing:$missing"
		apt-get update
		# shellcheck disable=SC2086 # $missing is a word list on purpose
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
	fi
	python_ok || die "minidokku needs python >= 3.9, found: $("$(system_python)" --version 2>&1)"
}

ensure_user() {
	step "Setting up the $DOKKU_USER user"
	user_changed=no
	if [ ! -e "$DOKKU_HOME" ]; then
		mkdir -p "$LIB_ROOT"
		touch "$SAMPLE_PENDING"
	fi
	if ! getent group docker >/dev/null; then
		groupadd --system docker
		info "created group docker"
		user_changed=yes
	fi
	if ! id "$DOKKU_USER" >/dev/null 2>&1; then
		# A real shell: sshd runs the forced command through the user's shell.
		useradd --create-home --home-dir "$DOKKU_HOME" --shell /bin/bash "$DOKKU_USER"
		info "created user $DOKKU_USER"
		user_changed=yes
	fi
	if ! id -nG "$DOKKU_USER" | tr ' ' '\n' | grep -qx docker; then
		usermod -aG docker "$DOKKU_USER"
		info "added $DOKKU_USER to group docker"
		user_changed=yes
	fi

	owner="$DOKKU_USER:$DOKKU_USER"
	# 0750: apps' repos, config and keys are no one else's to read. sshd (StrictModes wants the
	# home and ~/.ssh writable by the user alone) and nginx's master (root: it reads the apps'
	# configs and certificates; its workers read nothing here) are fine with it.
	ensure_dir "$DOKKU_HOME" 750 "$owner"
	[ "$CHANGED" = no ] || user_changed=yes
	# Inside the home, as the dokku user: a link it put there must not turn root's chmod or
	# write onto another file.
	if [ ! -d "$DOKKU_HOME/.ssh" ]; then
		as_dokku mkdir "$DOKKU_HOME/.ssh"
		user_changed=yes
	fi
	CHANGED=no
	ensure_dokku_mode "$DOKKU_HOME/.ssh" 700
	[ "$CHANGED" = no ] || user_changed=yes
	if [ ! -e "$DOKKU_HOME/.ssh/authorized_keys" ]; then
		as_dokku touch "$DOKKU_HOME/.ssh/authorized_keys"
		user_changed=yes
	fi
	CHANGED=no
	ensure_dokku_mode "$DOKKU_HOME/.ssh/authorized_keys" 600
	[ "$CHANGED" = no ] || user_changed=yes

	if [ "$user_changed" = yes ]; then
		info "ensured $DOKKU_HOME/.ssh and authorized_keys"
	else
		info "already set up"
	fi
}

# unpack_program PYTHON PYZ_PATH PYZ_DIR: the zipapp unpacked once, with its bytecode compiled by
# PYTHON, in PYZ_DIR/program-HASH (root's, everyone may read it), and PYZ_DIR/program, a link to it
# switched in one rename. When the link moves, the copy it named stays, for a command that started
# before (the launcher resolves the link once), and older ones go, as does the folder where an
# earlier launcher had shiv unpack the zipapp. The bytecode is brought up to date on every run (a
# python3 upgraded since). The launcher runs the program from there: the zipapp's own start (shiv's
# bootstrap, which checks its unpacked copy on every start) was a third of a command's time.
unpack_program() {
	up_hash=$(sha256sum "$2" | cut -c1-16)
	up_copy=$3/program-$up_hash
	up_former=$(readlink "$3/program" 2>/dev/null || true)
	if [ ! -f "$up_copy/.complete" ]; then
		rm -rf "$up_copy" "$up_copy.new"
		(umask 022 && "$1" -I -m zipfile -e "$2" "$up_copy.new") || die "could not unpack $2 in $up_copy.new"
		: >"$up_copy.new/.complete"
		mv "$up_copy.new" "$up_copy"
	fi
	(umask 022 && "$1" -I -m compileall -q "$up_copy/site-packages" >/dev/null) ||
		die "$1 could not compile $up_copy/site-packages"
	[ "$up_former" != "program-$up_hash" ] || return 0
	ln -sfn "program-$up_hash" "$3/program.new"
	mv -T "$3/program.new" "$3/program"
	for up_old in "$3"/program-* "$3/unpacked"; do
		case $up_old in
		"$up_copy" | "$3/$up_former") ;;
		*) rm -rf "$up_old" ;;
		esac
	done
}

# dokku_launcher PYTHON PYZ_DIR: the `dokku` command, a python script that runs the program
# unpack_program left in PYZ_DIR/program (the version the link names as it starts) on PYTHON, the
# python3 that compiled it: isolated from the caller's PYTHON* variables, user site and the
# system's packages (-I -S), and never writing bytecode in root's copy (-B). A command typed as
# root goes on as the dokku user in the same process (minidokku/access/users.py): that user may
# read the copy.
dokku_launcher() {
	cat <<EOF
#!$1 -IBS
"""minidokku's command, written by install.sh: the program unpacked in $2/program."""
import os
import sys

PROGRAM = os.path.join(os.path.realpath("$2/program"), "site-packages")
if not os.path.isdir(PROGRAM):
    sys.exit(f"dokku: {PROGRAM} is missing: run install.sh again")
sys.path.insert(0, PROGRAM)
from minidokku.entry import main  # noqa: E402

main()
EOF
}

install_program() {
	step "Installing minidokku"
	if [ -n "${MINIDOKKU_PYZ:-}" ]; then
		[ -f "$MINIDOKKU_PYZ" ] || die "MINIDOKKU_PYZ=$MINIDOKKU_PYZ: no such file"
		src=$MINIDOKKU_PYZ
		info "using $src"
	else
		url=${MINIDOKKU_RELEASE_URL:-$DEFAULT_RELEASE_URL}
		info "downloading $url"
		src=$WORKDIR/minidokku.pyz
		curl -fsSL -o "$src" "$url" || die "download failed: $url"
		[ -s "$src" ] || die "download is empty: $url"
	fi

	mkdir -p "$PYZ_DIR"
	ensure_perms "$PYZ_DIR" 755 root:root
	put_file "$PYZ_PATH" 755 root:root <"$src"
	PROGRAM_CHANGED=$CHANGED
	report "$PYZ_PATH"

	python=$(system_python)
	case $python in
	*[[:space:]]*) die "the path of python3 has a space, which a launcher's first line cannot hold: $python" ;;
	esac
	as_dokku "$python" -I -c '' || die "the dokku user cannot run $python"
	unpack_program "$python" "$PYZ_PATH" "$PYZ_DIR"
	put_file "$DOKKU_BIN" 755 root:root <<EOF
$(dokku_launcher "$python" "$PYZ_DIR")
EOF
	[ "$CHANGED" = no ] || PROGRAM_CHANGED=yes # the daemon started by another launcher starts again
	report "$DOKKU_BIN"
	# where the launcher before this one had shiv unpack the zipapp for the dokku user
	as_dokku sh -c 'rm -rf "$1"/.shiv/minidokku.pyz_* "$1"/.shiv/.minidokku.pyz_*' sh "$DOKKU_HOME" ||
		info "could not remove $DOKKU_HOME/.shiv/minidokku.pyz_*, the zipapp unpacked by an earlier launcher"

	# sshd's forced command for pushes and remote commands, and $DOKKU_BIN for the plugins the
	# dokku user runs; written by that user (root writes nothing by path in its home, and root
	# itself never takes its program from a file someone else could write: it uses its own path).
	sshcommand=$DOKKU_HOME/.sshcommand
	if [ "$(as_dokku cat "$sshcommand" 2>/dev/null || true)" = "$DOKKU_BIN" ]; then
		info "$sshcommand already up to date"
	else
		as_dokku sh -c 'printf "%s\n" "$1" >"$2.new" && mv -f "$2.new" "$2"' sh "$DOKKU_BIN" "$sshcommand"
		info "wrote $sshcommand"
	fi
}

# Keys added by an older minidokku: those without a role line were admins and stay admins (once;
# from then on a key without a line is a user), and every entry gets `restrict`.
migrate_keys() {
	step "Bringing the ssh keys up to date"
	"$DOKKU_BIN" ssh-keys:migrate
}

# Plugins root runs: in $PLUGIN_PATH, root's alone. An older minidokku kept them in
# $DOKKU_HOME/.plugins, where the dokku user could change them: each one (and the DISABLED list)
# moves only if all of it is root's and writable by root alone, checked on a copy in a folder
# only root can change; the old folder is then renamed aside (nothing is deleted through a path
# the dokku user controls).
install_plugin_path() {
	step "Setting up $PLUGIN_PATH"
	ensure_dir "$LIB_ROOT" 755 root:root
	ensure_dir "$PLUGIN_PATH" 755 root:root
	report "$PLUGIN_PATH"
	old=$DOKKU_HOME/.plugins
	[ -d "$old" ] && [ ! -L "$old" ] || return 0
	for item in "$old"/*; do
		name=${item##*/}
		[ -e "$item" ] || continue
		if [ -e "$PLUGIN_PATH/$name" ]; then
			info "$name: $PLUGIN_PATH has it already; the old copy is not used"
		elif move_if_roots "$item" "$PLUGIN_PATH/$name"; then
			info "moved $name to $PLUGIN_PATH"
		else
			info "$name: not moved, someone else could have changed it; install it again from its source"
		fi
	done
	if [ ! -e "$old.before-upgrade" ]; then
		mv "$old" "$old.before-upgrade"
		info "the old folder is now $old.before-upgrade: nothing runs from there"
	fi
}

# letsencrypt's challenge webroots (ACME_WEBROOT): nginx's workers read them, so they are not in
# the 0750 home; the dokku user alone writes there (lego runs as it), and no container mounts it.
install_letsencrypt_webroot() {
	step "Setting up $LIB_ROOT/letsencrypt"
	ensure_dir "$LIB_ROOT/letsencrypt" 755 "$DOKKU_USER:$DOKKU_USER"
	report "$LIB_ROOT/letsencrypt"
}

install_storage_root() {
	step "Setting up $STORAGE_ROOT"
	mkdir -p "${STORAGE_ROOT%/*}"
	ensure_dir "$STORAGE_ROOT" 700 "$DOKKU_USER:$DOKKU_USER"
	report "$STORAGE_ROOT"
	mount_nosuid_nodev "$STORAGE_ROOT" /etc/fstab
}

# mount_nosuid_nodev DIR FSTAB: DIR (a bind mount of itself unless it is a mount point already)
# mounted nosuid,nodev, now and (a line in FSTAB) at boot: a setuid file or a device node an app's
# container made in a storage entry is nothing on the host.
mount_nosuid_nodev() {
	options=",$(findmnt -n -o OPTIONS --mountpoint "$1" || true),"
	if [ "${options#*,nosuid,}" != "$options" ] && [ "${options#*,nodev,}" != "$options" ]; then
		info "$1 already mounted nosuid,nodev"
		return 0
	fi
	if ! { [ "$options" != ",," ] || mount --bind "$1" "$1"; } || ! mount -o remount,bind,nosuid,nodev "$1"; then
		# a container-based VPS may forbid mounts: apps still make no device nodes (no MKNOD)
		info "could not mount $1 nosuid,nodev here; a setuid file an app writes there keeps its bit"
		return 0
	fi
	if ! grep -qs "^$1 " "$2"; then
		echo "$1 $1 none bind,nosuid,nodev 0 0" >>"$2"
	elif ! grep -qs "^$1 .*nosuid,nodev" "$2"; then
		info "add nosuid,nodev to the options of $1 in $2: they are gone after a reboot otherwise"
	fi
	info "mounted $1 nosuid,nodev"
}

# move_if_roots SOURCE TARGET: copies SOURCE to TARGET if all of it is root's and writable by root alone
move_if_roots() {
	stage=$(mktemp -d "$PLUGIN_PATH/.moving-XXXXXX")
	cp -a "$1" "$stage/item"
	if [ -L "$stage/item" ] ||
		[ -n "$(find "$stage/item" \( ! -user root -o \( ! -type l -perm /022 \) \) -print -quit)" ]; then
		rm -rf "$stage"
		return 1
	fi
	mv "$stage/item" "$2"
	rmdir "$stage"
}

wire_nginx() {
	step "Wiring nginx"
	put_file "$NGINX_CONF" 644 root:root <<'EOF'
# minidokku: one server block per app, written by `dokku` itself
server_names_hash_bucket_size 128;
include /home/dokku/*/nginx.conf;

# A name no app has gets a plain 404, never some app's page; its header tells install.sh that
# this nginx is minidokku's.
server {
  listen 80 default_server;
  server_name _;
  access_log off;
  add_header X-Minidokku default always;
  return 404;
}

# Over HTTPS, a name no app's certificate covers is refused at the handshake: without this, the
# first app with a certificate would answer every such name with its own page.
server {
  listen 443 ssl default_server;
  server_name _;
  access_log off;
  ssl_reject_handshake on;
}
EOF
	NGINX_CHANGED=$CHANGED
	report "$NGINX_CONF"
	# Debian's stock site claims default_server on port 80 too; ours replaces it.
	if [ -L /etc/nginx/sites-enabled/default ]; then
		rm -f /etc/nginx/sites-enabled/default
		NGINX_CHANGED=yes
		info "disabled Debian's default site: unknown names get our 404"
	fi
}

install_sudoers() {
	# nginx:start runs nginx with no arguments ("" in sudoers), nginx:stop runs it with -s quit
	step "Allowing $DOKKU_USER to check, reload, start and stop nginx"
	put_file "$SUDOERS_FILE" 440 root:root visudo -cf <<EOF
$DOKKU_USER ALL=(root) NOPASSWD: /usr/sbin/nginx -t, /usr/sbin/nginx -s reload, /usr/sbin/nginx -s quit, /usr/sbin/nginx ""
EOF
	report "$SUDOERS_FILE"
}

start_services() {
	step "Starting services"
	start_docker
	start_sshd
	if [ "$NGINX_CHANGED" = yes ]; then
		start_nginx reload
	else
		start_nginx
	fi
}

# The daemon restores the apps at its start and whenever the engine answers again
# (ops/engine_watch.py). An older install's unit running ps:restore beside it would race it for the
# apps' locks (and be marked failed while the app comes back): it goes.
remove_restore_unit() {
	[ -f "$RESTORE_UNIT" ] || return 0
	step "Removing minidokku-restore.service: the daemon restores the apps"
	if has_systemd; then
		systemctl disable minidokku-restore.service >/dev/null 2>&1 || true
	fi
	rm -f "$RESTORE_UNIT"
	if has_systemd; then
		systemctl daemon-reload
	fi
	info "removed $RESTORE_UNIT"
}

# The daemon (dokku cron:daemon) starts app.json's cron tasks each minute and restores the apps at
# its start and whenever the Docker engine answers again; one runs at a time (it holds
# ROOT/.cron/LOCK, so starting a second is harmless). A
# unit where systemd is, restarted a minute after it ends (no app yet, or another daemon held the
# lock): then only the unit starts it. Elsewhere a background process of the dokku user, started
# again by a deploy with cron tasks, by ps:restore and at boot by /etc/init.d/minidokku. Restarted
# when the program or its unit changed, so it runs the installed version.
CRON_UNIT=/etc/systemd/system/$CRON_SERVICE
start_cron_daemon() {
	step "Starting the cron daemon"
	if has_systemd; then
		put_file "$CRON_UNIT" 644 root:root <<EOF
[Unit]
Description=minidokku: app.json cron tasks, and the apps restored after engine restarts
After=docker.service

[Service]
User=$DOKKU_USER
ExecStart=$DOKKU_BIN cron:daemon
WorkingDirectory=$DOKKU_HOME
Restart=always
RestartSec=60

[Install]
WantedBy=multi-user.target
EOF
		report "$CRON_UNIT"
		if [ "$CHANGED" = yes ]; then
			systemctl daemon-reload
			PROGRAM_CHANGED=yes
		fi
		ensure_enabled "$CRON_SERVICE"
		if [ "$PROGRAM_CHANGED" = yes ] && daemon_runs; then
			systemctl restart "$CRON_SERVICE"
			info "restarted it: it runs the installed version"
		fi
	elif [ "$PROGRAM_CHANGED" = yes ] && daemon_runs; then
		stop_daemon
		info "stopped the running daemon: the new one runs the installed version"
	fi
	start_daemon
	info "its log: $DOKKU_HOME/.cron/LOG"
}

# Without systemd, where SysV init is (update-rc.d), /etc/init.d/minidokku starts at boot what this
# install started, the same way; with systemd, the units do. With neither, the end says so.
BOOT_SCRIPT=$INIT_D/minidokku
install_boot_script() {
	has_systemd && return 0
	if ! command -v update-rc.d >/dev/null 2>&1; then
		BOOT_NOTE="Nothing starts minidokku at boot here (neither systemd nor SysV init): after a reboot, run install.sh again."
		return 0
	fi
	step "Installing the boot script $BOOT_SCRIPT"
	put_file "$BOOT_SCRIPT" 755 root:root sh -n <<EOF
$(boot_script)
EOF
	report "$BOOT_SCRIPT"
	if [ "$CHANGED" = yes ] || ! ls /etc/rc2.d/S*minidokku >/dev/null 2>&1; then
		update-rc.d minidokku defaults
		info "registered it with SysV init (runlevels 2 to 5)"
	fi
}

# boot_script: /etc/init.d/minidokku, the service functions above with an LSB header and its actions
boot_script() {
	cat <<'EOF'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          minidokku
# Required-Start:    $local_fs $remote_fs $network $syslog
# Required-Stop:     $local_fs $remote_fs $network $syslog
# Should-Start:      docker nginx ssh
# Should-Stop:       docker
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: minidokku: docker, nginx, sshd and its daemon
# Description:       Starts dockerd when it does not answer (by its init script, else directly),
#                    nginx, sshd and minidokku's daemon (as the dokku user, which brings the apps
#                    back); stop and status are the daemon's.
### END INIT INFO
# Written by minidokku's install.sh, which writes it again on every run.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
EOF
	service_functions
	echo "BUILD_PIDS=$BUILD_PIDS"
	cat <<'EOF'
build_cgroup() {
	bc_cgroup=$(engine_cgroup) || die "could not ask the Docker engine for its cgroup driver"
	make_build_cgroup "${bc_cgroup#* }"
}
case "${1:-}" in
start)
	# every service is tried, also when one before failed (a failed dockerd leaves sshd to start)
	failed=0
	for start in start_docker build_cgroup start_nginx start_sshd start_daemon; do
		# in the background and waited for: `set -e` holds inside (it would not left of `||`)
		("$start") &
		wait $! || failed=1
	done
	exit "$failed"
	;;
stop)
	stop_daemon
	;;
restart | force-reload)
	stop_daemon
	start_daemon
	;;
status)
	if daemon_runs; then
		echo "minidokku's daemon is running"
	else
		echo "minidokku's daemon is not running"
		exit 3
	fi
	;;
*)
	echo "Usage: $0 {start|stop|restart|force-reload|status}" >&2
	exit 2
	;;
esac
EOF
}

# The engine's build API has no pids limit: every build step container is made inside this parent
# cgroup, whose limit bounds them all together. Where it is missing, a tenant's Dockerfile is refused.
prepare_build_cgroup() {
	step "Bounding the processes of Dockerfile builds"
	cgroup=$(engine_cgroup) || die "could not ask the Docker engine for its cgroup driver"
	driver=${cgroup% *} version=${cgroup#* }
	if [ "$driver" = systemd ]; then
		put_file "$BUILD_SLICE_UNIT" 644 root:root <<EOF
[Unit]
Description=minidokku: the Dockerfile builds, their processes bounded together
Before=slices.target

[Slice]
TasksAccounting=yes
TasksMax=$BUILD_PIDS

[Install]
WantedBy=slices.target
EOF
		report "$BUILD_SLICE_UNIT"
		[ "$CHANGED" = no ] || systemctl daemon-reload
		# started now (minidokku reads the limit from its cgroup) and at every boot
		systemctl enable --now "$BUILD_CGROUP.slice"
	else
		make_build_cgroup "$version"
	fi
}

build_stack() {
	step "Building the base image"
	if [ "${MINIDOKKU_SKIP_STACK:-}" = 1 ]; then
		info "skipped (MINIDOKKU_SKIP_STACK=1)"
		return 0
	fi
	# stack:build itself does nothing when minidokku/stack:latest already exists.
	"$DOKKU_BIN" stack:build
}

run_plugin_install_triggers() {
	step "Running the plugins' install triggers"
	# as Dokku's installer: an upgraded minidokku lets every installed plugin set itself up again
	"$DOKKU_BIN" plugin:install
}

# The sample app: catmeow, shipped in the zipapp, deployed once per machine by a git push into its
# repo (dokku sample:deploy), so the install ends with an app serving; only by the install that made
# the dokku user's home (SAMPLE_PENDING), never on an upgrade. MINIDOKKU_SAMPLE=0 leaves it out; a
# failed deploy is said and leaves the install as it is (the next run tries again).
deploy_sample() {
	if [ -n "${MINIDOKKU_BUILD_OPTIONS:-}" ]; then
		# docker-options:add keeps an option once, however often it is added
		"$DOKKU_BIN" docker-options:add --global build "$MINIDOKKU_BUILD_OPTIONS"
	fi
	step "Deploying the sample app"
	if [ "${MINIDOKKU_SAMPLE:-1}" = 0 ]; then
		info "skipped (MINIDOKKU_SAMPLE=0)"
		rm -f "$SAMPLE_PENDING"
	elif [ ! -e "$SAMPLE_PENDING" ] && ! as_dokku test -e "$DOKKU_HOME/SAMPLE"; then
		info "skipped: minidokku was installed here before (the sample app is a first install's)"
	elif ! "$DOKKU_BIN" sample:deploy; then
		info "the sample app did not deploy (its output is above); minidokku itself is installed"
	fi
	# from now on the sample's record says whether it is tried again
	if as_dokku test -e "$DOKKU_HOME/SAMPLE"; then
		rm -f "$SAMPLE_PENDING"
	fi
}

# sample_serving: whether the sample app was deployed and is still there
sample_serving() {
	as_dokku grep -qs '^deployed ' "$DOKKU_HOME/SAMPLE" && "$DOKKU_BIN" apps:exists catmeow >/dev/null 2>&1
}

print_next_steps() {
	host=$(hostname -f 2>/dev/null || true)
	[ -n "$host" ] || host=$(hostname)
	echo "=====> minidokku is installed."
	if sample_serving; then
		# the dokku user's value, on root's terminal: printable ASCII only (a URL is)
		info "The sample app:     $("$DOKKU_BIN" url catmeow | LC_ALL=C tr -d '\000-\037\177-\377')"
	fi
	info "Add your ssh key:   cat ~/.ssh/id_ed25519.pub | ssh root@$host dokku ssh-keys:add admin"
	info "Push your app:      git remote add dokku dokku@$host:myapp && git push dokku main"
	info "Your own domain:    dokku domains:set-global example.com"
	if sample_serving; then
		info "Remove the sample:  dokku apps:destroy catmeow"
	fi
}

main() {
	check_host
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	WORKDIR=$(mktemp -d)

	ensure_packages
	ensure_user
	install_program
	install_plugin_path
	install_letsencrypt_webroot
	install_storage_root
	migrate_keys
	wire_nginx
	install_sudoers
	start_services
	remove_restore_unit
	start_cron_daemon
	install_boot_script
	prepare_build_cgroup
	build_stack
	run_plugin_install_triggers
	deploy_sample
	print_next_steps
	[ -z "$BOOT_NOTE" ] || info "$BOOT_NOTE"
}

main "$@"
