#!/usr/bin/env bash
# Makes the TLS profile's certificates with the openssl command line: one test CA (ECDSA P-256)
# and a server and a client certificate of each key type the cases use (ECDSA P-256, RSA 2048,
# Ed25519), each signed by the CA, valid for `localhost` and 127.0.0.1; plus an expired server
# certificate and one signed by a second CA nobody trusts.
#
#   bash scripts/tls-certs.sh DIR     # writes DIR/ca.pem, DIR/server-ecdsa.pem and .key, ...
#
# Nothing here is secret: the keys exist for loopback tests only. An existing DIR/ca.pem is kept
# (the files are made once per directory).
set -euo pipefail
dir=${1:?usage: tls-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
# One maker at a time per directory (tests running in parallel share one).
exec 9>.lock
flock 9
[ -f ca.pem ] && [ -f done ] && exit 0

command -v openssl >/dev/null || { echo "tls-certs.sh: the openssl program is missing; run scripts/install-tls-stacks.sh" >&2; exit 2; }

days=3650
newkey() { # TYPE FILE
    case $1 in
    ecdsa) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" 2>/dev/null ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" 2>/dev/null ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$2" 2>/dev/null ;;
    esac
}

ca() { # NAME
    newkey ecdsa "$1.key"
    openssl req -x509 -new -key "$1.key" -subj "/CN=$1" -days $days -sha256 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "$1.pem" 2>/dev/null
}

leaf() { # NAME TYPE CA EXTRA-X509-ARGS...
    local name=$1 type=$2 ca=$3
    shift 3
    newkey "$type" "$name.key"
    openssl req -new -key "$name.key" -subj "/CN=localhost" -out "$name.csr" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
        "extendedKeyUsage=serverAuth,clientAuth" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -set_serial "0x$(openssl rand -hex 8)" \
        -extfile "$name.ext" "$@" -out "$name.pem" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

ca ca
ca untrusted-ca
for t in ecdsa rsa ed25519; do
    leaf "server-$t" "$t" ca -days $days -sha256
    leaf "client-$t" "$t" ca -days $days -sha256
done
leaf server-untrusted ecdsa untrusted-ca -days $days -sha256
# Expired: valid for one day, ten years ago (`openssl ca`, since `x509 -req` in OpenSSL 3.0
# cannot set the dates).
newkey ecdsa server-expired.key
openssl req -new -key server-expired.key -subj "/CN=localhost" -out server-expired.csr 2>/dev/null
mkdir -p ca-db
: >ca-db/index.txt
cat >ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = leaf
[any]
commonName = supplied
[leaf]
subjectAltName = DNS:localhost,IP:127.0.0.1
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth,clientAuth
CNF
openssl rand -hex 8 >ca-db/serial
openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in server-expired.csr \
    -startdate 20160101000000Z -enddate 20160102000000Z -notext -out server-expired.pem 2>/dev/null
rm -rf ca-db server-expired.csr
touch done
