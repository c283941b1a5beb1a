#!/usr/bin/env bash
# Installs Debian/Ubuntu packages when the commands they provide are missing. Each argument is
# COMMAND=PACKAGE: the package is installed when COMMAND is not on PATH. Idempotent: with every
# command present it does nothing. Uses sudo only when not root. Retries while another apt/dpkg
# holds the lock or the mirror is flaky. The project's install scripts call it.
#
#   scripts/install-packages.sh dot=graphviz
#   scripts/install-packages.sh tshark=tshark text2pcap=wireshark-common
#   INSTALL_TRIES=10 scripts/install-packages.sh chromium=chromium
set -euo pipefail

tries=${INSTALL_TRIES:-${TSHARK_INSTALL_TRIES:-5}}
delay=${INSTALL_DELAY:-${TSHARK_INSTALL_DELAY:-5}}

die() {
    echo "install-packages: error: $*" >&2
    exit 1
}

[ "$#" -gt 0 ] || die "usage: $0 COMMAND=PACKAGE..."

missing=()
for pair in "$@"; do
    cmd=${pair%%=*}
    pkg=${pair#*=}
    [ -n "$cmd" ] && [ -n "$pkg" ] && [ "$cmd" != "$pair" ] || die "'$pair' is not COMMAND=PACKAGE"
    if ! command -v "$cmd" >/dev/null 2>&1; then
        case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
    fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

command -v apt-get >/dev/null 2>&1 ||
    die "missing: ${missing[*]}, and apt-get is not available: install them with your system's package manager"

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
    ${SUDO[@]+"${SUDO[@]}"} true 2>/dev/null ||
        die "installing ${missing[*]} needs root and 'sudo -n' cannot run without a password (run $0 as root)"
else
    die "installing ${missing[*]} needs root and sudo is not installed (run $0 as root)"
fi

export DEBIAN_FRONTEND=noninteractive

# Runs "$@" (as root), retrying while the dpkg/apt lock is held or the mirror is flaky.
retry() {
    local n=1 out
    while true; do
        if out=$(${SUDO[@]+"${SUDO[@]}"} "$@" 2>&1); then
            return 0
        fi
        if [ "$n" -ge "$tries" ]; then
            echo "$out" | tail -n 20 >&2
            return 1
        fi
        if echo "$out" | grep -qiE 'could not get lock|dpkg.*lock|unable to acquire|is another process using it'; then
            echo "install-packages: the dpkg lock is held; retry $n/$tries in ${delay}s" >&2
        else
            echo "install-packages: '$*' failed (attempt $n/$tries); retrying in ${delay}s" >&2
            echo "$out" | tail -n 3 >&2
        fi
        sleep "$delay"
        n=$((n + 1))
    done
}

# Wireshark asks whether non-superusers may capture packets: no.
case " ${missing[*]} " in
*" tshark "* | *" wireshark-common "*)
    if command -v debconf-set-selections >/dev/null 2>&1; then
        echo "wireshark-common wireshark-common/install-setuid boolean false" |
            ${SUDO[@]+"${SUDO[@]}"} debconf-set-selections || die "debconf-set-selections failed"
    fi
    ;;
esac

echo "install-packages: running apt-get update" >&2
retry apt-get update -q || die "apt-get update failed (is the package mirror reachable?)"
echo "install-packages: running apt-get install -y ${missing[*]}" >&2
retry env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install ${missing[*]} failed"

for pair in "$@"; do
    cmd=${pair%%=*}
    command -v "$cmd" >/dev/null 2>&1 || die "apt-get reported success but $cmd (package ${pair#*=}) is not on PATH"
done
