#!/usr/bin/env bash
# Describes this machine for the benchmark report and measures its AEAD limit with
# `openssl speed` (16 KiB blocks, one core): writes JSON to $1 (default: stdout).
#   bash scripts/bench-machine.sh target/bench/machine.json
set -euo pipefail
out=${1:-/dev/stdout}
seconds=${OPENSSL_SECONDS:-3}

json_string() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

# MB/s (10^6 bytes) of one `openssl speed -evp ALG` at 16 KiB; empty if openssl cannot.
openssl_mbps() {
    openssl speed -seconds "$seconds" -bytes 16384 -evp "$1" 2>/dev/null |
        awk 'END { v = $NF; sub(/k$/, "", v); if (v + 0 > 0) printf "%.1f", v / 1000 }'
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
flags=$(awk -F': ' '/^flags/ { print $2; exit }' /proc/cpuinfo)
features=""
for f in aes vaes pclmulqdq avx2 avx512f sha_ni adx bmi2; do
    case " $flags " in *" $f "*) features="$features${features:+ }$f" ;; esac
done
cores=$(nproc)
mem_gib=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
kernel=$(uname -sr)
rustc_v=$(rustc --version 2>/dev/null || echo unknown)
openssl_v=$(openssl version 2>/dev/null || echo unavailable)
valgrind_v=$(valgrind --version 2>/dev/null || echo unavailable)
hypervisor=$(lscpu 2>/dev/null | awk -F': *' '/^Hypervisor vendor/ { print $2 }')
load=$(cut -d' ' -f1-3 /proc/loadavg)
aes=$(openssl_mbps aes-256-gcm)
chacha=$(openssl_mbps chacha20-poly1305)

cat > "$out" <<JSON
{
  "schema": "btls-bench-machine/1",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cpu": "$(json_string "$cpu")",
  "cpu_features": "$features",
  "hypervisor": "$(json_string "${hypervisor:-none}")",
  "cores": $cores,
  "memory_gib": $mem_gib,
  "kernel": "$(json_string "$kernel")",
  "rustc": "$(json_string "$rustc_v")",
  "openssl": "$(json_string "$openssl_v")",
  "valgrind": "$(json_string "$valgrind_v")",
  "load_average_at_start": "$load",
  "openssl_speed_16k_mb_s": {
    "AES_256_GCM": ${aes:-null},
    "CHACHA20_POLY1305": ${chacha:-null}
  }
}
JSON
