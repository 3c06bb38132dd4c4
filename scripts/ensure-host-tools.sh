#!/usr/bin/env bash
# Install the host tools needed to build stand-in base images from Debian's archive
# (debootstrap, and the archive keyring it verifies Release files with). Idempotent; silent when
# everything is already there. Debian, as root.
set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
[[ -f "$KEYRING" ]] || missing+=(debian-archive-keyring)
command -v gpgv >/dev/null 2>&1 || missing+=(gpgv)
((${#missing[@]} == 0)) && exit 0

if [[ "$(id -u)" != 0 ]]; then
    echo "ensure-host-tools: ERROR: missing ${missing[*]}; run as root (sudo $0)" >&2
    exit 1
fi

echo "ensure-host-tools: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_log=/tmp/harness-apt-host-tools.log
# Try with the package lists we have; refresh them only when that fails (empty or stale lists).
if ! apt-get install -y -q "${missing[@]}" >"$apt_log" 2>&1; then
    apt-get update -q >>"$apt_log" 2>&1 || true
    if ! apt-get install -y -q "${missing[@]}" >>"$apt_log" 2>&1; then
        echo "ensure-host-tools: ERROR: apt-get install ${missing[*]} failed:" >&2
        tail -n 10 "$apt_log" >&2
        exit 1
    fi
fi
echo "ensure-host-tools: debootstrap $(dpkg-query -W -f='${Version}' debootstrap) ready"
