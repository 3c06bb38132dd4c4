#!/usr/bin/env bash
# Make a Docker engine usable, idempotently (Debian 12, as root, no init system needed).
#
#   1. If `docker info` already works (any engine, context or DOCKER_HOST): use it, touch nothing.
#   2. Otherwise install Debian's docker.io if dockerd is missing (apt-get update only if needed).
#   3. Clear leftovers of a killed daemon (stale pid files, dead containerd sockets), but only
#      when the process they name is gone. A running daemon is never killed.
#   4. Start dockerd in the background (log: /var/log/harness-dockerd.log) and wait for it.
#
# Exit codes: 0 engine usable; 3 no usable engine (the message says what to do).
set -euo pipefail

LOG=/var/log/harness-dockerd.log
WAIT_SECONDS="${HARNESS_DOCKER_WAIT:-60}"
DOCKER_PIDFILE=/var/run/docker.pid
CONTAINERD_DIR=/run/docker/containerd
# dockerd uses a system containerd instead of its own when this socket exists.
SYSTEM_CONTAINERD_SOCK=/run/containerd/containerd.sock
# Root's PATH is sometimes missing the sbin directories (non-login shells, make).
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

say() { echo "ensure-docker: $*"; }

die() {
    echo "ensure-docker: ERROR: $1" >&2
    shift
    for line in "$@"; do echo "  $line" >&2; done
    exit 3
}

engine_works() {
    # `docker info` exits non-zero when the server part cannot be reached.
    command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

engine_version() {
    docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo "?"
}

# True when PID is alive and its command name is NAME (a stale pid file may name a reused pid).
pid_is() {
    local pid="$1" name="$2"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/status" ]] || return 1
    # A killed daemon stays a zombie until its parent reaps it: it still has a comm, but is gone.
    awk -v n="$name" '$1 == "Name:" && $2 == n {name_ok = 1}
        $1 == "State:" && $2 != "Z" && $2 != "X" {alive = 1}
        END {exit !(name_ok && alive)}' "/proc/$pid/status" 2>/dev/null
}

# True when some process in this network namespace listens on the unix socket PATH.
socket_is_bound() {
    # /proc/net/unix lists this namespace's unix sockets; the last field is the path as bound,
    # which may be spelt /var/run/... or /run/... (the same directory on Debian).
    local p="${1#/var}"
    awk -v a="$p" -v b="/var$p" '$NF == a || $NF == b {f = 1} END {exit !f}' /proc/net/unix
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    # Try with the package lists we have; refresh them only when that fails (empty or stale lists).
    if ! apt-get install -y -q "$@" >/tmp/harness-apt.log 2>&1; then
        say "refreshing package lists (apt-get update)"
        apt-get update -q >>/tmp/harness-apt.log 2>&1 || true
        apt-get install -y -q "$@" >>/tmp/harness-apt.log 2>&1 ||
            die "apt-get install $* failed" "see /tmp/harness-apt.log" \
                "$(tail -n 5 /tmp/harness-apt.log)"
    fi
}

check_environment() {
    # A DOCKER_HOST or non-default context names an engine that a local dockerd cannot replace.
    if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != "unix:///var/run/docker.sock" \
        && "${DOCKER_HOST}" != "unix:///run/docker.sock" ]]; then
        die "DOCKER_HOST=${DOCKER_HOST} is set but that engine does not answer." \
            "start that engine and re-run, or unset DOCKER_HOST to use a local dockerd."
    fi
    if [[ -n "${DOCKER_CONTEXT:-}" && "${DOCKER_CONTEXT}" != "default" ]]; then
        die "DOCKER_CONTEXT=${DOCKER_CONTEXT} is set but that engine does not answer." \
            "start that engine and re-run, or unset DOCKER_CONTEXT."
    fi
    if [[ "$(id -u)" != 0 ]]; then
        die "no usable Docker engine, and only root can install and start one." \
            "run as root (sudo $0), or start your Docker engine and re-run," \
            "or set DOCKER_HOST to an engine you can reach (non-root: join the 'docker' group)."
    fi
}

ensure_installed() {
    if command -v dockerd >/dev/null && command -v containerd >/dev/null \
        && command -v runc >/dev/null && [[ -x /usr/bin/docker ]]; then
        return
    fi
    # Debian's own CLI lands in /usr/bin; a newer CLI already in /usr/local/bin stays first on PATH.
    say "installing docker.io from Debian"
    apt_install docker.io
    command -v dockerd >/dev/null || die "docker.io installed but dockerd is not on PATH ($PATH)."
}

ensure_cgroups() {
    # Without an init system nobody may have mounted the cgroup hierarchy.
    if ! mountpoint -q /sys/fs/cgroup && command -v cgroupfs-mount >/dev/null; then
        say "mounting cgroups (cgroupfs-mount)"
        cgroupfs-mount || true
    fi
}

# Prints the pid of a running dockerd (from the pid file, else by process name), or nothing.
running_dockerd() {
    local pid
    if [[ -f "$DOCKER_PIDFILE" ]]; then
        pid="$(cat "$DOCKER_PIDFILE" 2>/dev/null || true)"
        if pid_is "$pid" dockerd; then
            echo "$pid"
            return
        fi
    fi
    # Root's live dockerd processes only (zombies and rootless daemons of other users don't count).
    ps -u 0 -o pid=,stat=,comm= | awk '$3 == "dockerd" && $2 !~ /^[ZX]/ {print $1; exit}'

}

clear_stale_dockerd_pidfile() {
    local f pid
    for f in /var/run/docker.pid /run/docker.pid; do
        [[ -f "$f" ]] || continue
        pid="$(cat "$f" 2>/dev/null || true)"
        if ! pid_is "$pid" dockerd; then
            say "removing stale $f (pid ${pid:-?} is not a running dockerd)"
            rm -f "$f"
        fi
    done
}

clear_stale_containerd() {
    local pidfile="$CONTAINERD_DIR/containerd.pid" pid="" sock
    [[ -d "$CONTAINERD_DIR" ]] || return 0
    if [[ -f "$pidfile" ]]; then
        pid="$(cat "$pidfile" 2>/dev/null || true)"
        if pid_is "$pid" containerd; then
            # dockerd reattaches to its containerd if that one survived.
            say "dockerd's containerd (pid $pid) still runs; dockerd will reuse it"
            return 0
        fi
        say "removing stale $pidfile (pid ${pid:-?} is not a running containerd)"
        rm -f "$pidfile"
    fi
    for sock in "$CONTAINERD_DIR"/containerd.sock "$CONTAINERD_DIR"/containerd.sock.ttrpc \
        "$CONTAINERD_DIR"/containerd-debug.sock; do
        if [[ -S "$sock" ]] && ! socket_is_bound "$sock"; then
            say "removing stale socket $sock"
            rm -f "$sock"
        fi
    done
}

clear_stale_system_containerd_socket() {
    # A dead system containerd's socket would make dockerd dial it instead of starting its own.
    if [[ -S "$SYSTEM_CONTAINERD_SOCK" ]] && ! socket_is_bound "$SYSTEM_CONTAINERD_SOCK"; then
        say "removing stale socket $SYSTEM_CONTAINERD_SOCK"
        rm -f "$SYSTEM_CONTAINERD_SOCK"
    fi
}

start_dockerd() {
    say "starting dockerd (log: $LOG)"
    echo "=== $(date -Is) ensure-docker.sh starts dockerd ===" >>"$LOG"
    # setsid: the daemon must outlive this script and not get the caller's Ctrl-C.
    setsid nohup dockerd </dev/null >>"$LOG" 2>&1 &
}

wait_for_engine() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    while ((SECONDS < deadline)); do
        engine_works && return 0
        sleep 1
    done
    return 1
}

fail_with_log() {
    die "$1" "last lines of $LOG:" "$(tail -n 15 "$LOG" 2>/dev/null || echo '(no log)')" \
        "fix the cause above and re-run, or start your Docker engine yourself and re-run" \
        "(or set DOCKER_HOST to an engine you can reach)."
}

main() {
    if engine_works; then
        say "using the existing Docker engine $(engine_version); leaving it alone"
        exit 0
    fi
    check_environment
    ensure_installed
    # A freshly installed CLI may reach an engine that the old CLI could not.
    if engine_works; then
        say "using the existing Docker engine $(engine_version); leaving it alone"
        exit 0
    fi
    local pid
    pid="$(running_dockerd)"
    if [[ -n "$pid" ]]; then
        # Never kill it: it may be starting up. Wait for it instead.
        say "a dockerd (pid $pid) is running but not answering yet; waiting up to ${WAIT_SECONDS}s"
        wait_for_engine || fail_with_log "dockerd (pid $pid) runs but does not answer 'docker info'."
    else
        ensure_cgroups
        clear_stale_dockerd_pidfile
        clear_stale_containerd
        clear_stale_system_containerd_socket
        start_dockerd
        wait_for_engine || fail_with_log "dockerd did not become ready within ${WAIT_SECONDS}s."
    fi
    say "Docker engine $(engine_version) is ready"
}

main "$@"
