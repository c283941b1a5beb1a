#!/usr/bin/env bash
# Generates keys with btls-keytool (the server's protected by a password), then sends a 1 MB file
# from the example client to the example server over loopback and checks it arrived intact.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p btls --bins --example file_server --example file_client
bin=target/debug
work=$(mktemp -d)
cleanup() {
    if [ -n "${server_pid:-}" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

export BTLS_EXAMPLE_PASSWORD=correct-horse-battery-staple
"$bin/btls-keytool" generate --algorithm ed25519-x25519 --reg server.example --key k1 \
    --out-dir "$work" --name server --password-env BTLS_EXAMPLE_PASSWORD --iterations 100000
"$bin/btls-keytool" generate --algorithm ed25519-x25519 --reg client.example --key k1 \
    --out-dir "$work" --name client
head -c 1000000 /dev/urandom > "$work/payload.bin"

coproc SERVER { exec timeout 60 "$bin/examples/file_server" --key "$work/server.key.json" \
    --password-env BTLS_EXAMPLE_PASSWORD --known "$work/client.pub.json" --out "$work/received.bin"; }
server_pid=$SERVER_PID
read -r -t 30 -u "${SERVER[0]}" line
addr=${line#listening on }

timeout 60 "$bin/examples/file_client" --connect "$addr" --key "$work/client.key.json" \
    --known "$work/server.pub.json" --expect-server server.example --send "$work/payload.bin"
wait "$server_pid"
server_pid=
cmp "$work/payload.bin" "$work/received.bin"
echo "examples: 1 MB sent over bTLS, received intact, digest confirmed"

# The TLS Pool: two plain TCP applications agree to STARTTLS and talk bTLS through two daemons.
cargo run --quiet -p btls-pool --example starttls_demo 2>/dev/null | tail -n 1
