#!/bin/sh
# SPDX-License-Identifier: MIT
# Makes a TEST certificate authority and a broker (server) certificate signed by
# it, for trying production.conf and for the test suite. Not for production:
# README.md ("Real certificates") says how to use certificates from your own CA
# or a public one instead.
#
#   mkcerts.sh [-d DIR] [--days N] [--cn NAME] [SAN...]
#
# SAN: extra subjectAltName entries for the server certificate, as DNS:name or
# IP:address (localhost and 127.0.0.1 and ::1 are always included). Example:
#   mkcerts.sh -d /etc/mosquitto/kvmgrid/tls DNS:broker.example.net IP:10.0.0.5
#
# DIR (default ./tls) receives:
#   ca.crt      the test CA certificate: give it to every client (kvmgrid's ca_file,
#               mosquitto_pub/sub --cafile)
#   ca.key      the CA's private key (0600): keep it off the broker; needed only to sign
#   server.crt  the broker's certificate (CN = --cn, default localhost; the SANs above)
#   server.key  the broker's private key: root:mosquitto 0640 when run as root
# An existing CA in DIR is reused (so clients keep trusting it); the server
# certificate is always made anew. Keys are EC P-256; signatures SHA-256.
set -eu
umask 077

die() { echo "mkcerts.sh: $*" >&2; exit 2; }
dir=./tls
days=825
cn=localhost
sans="DNS:localhost,IP:127.0.0.1,IP:::1"
while [ $# -gt 0 ]; do
    case "$1" in
    -d) [ $# -ge 2 ] || die "-d needs a directory"; dir=$2; shift 2 ;;
    --days) [ $# -ge 2 ] || die "--days needs a number"; days=$2; shift 2 ;;
    --cn) [ $# -ge 2 ] || die "--cn needs a name"; cn=$2; shift 2 ;;
    -h|--help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    DNS:*|IP:*)
        printf '%s\n' "$1" | grep -Eq '^(DNS:[A-Za-z0-9*.-]+|IP:[0-9A-Fa-f.:]+)$' ||
            die "invalid SAN '$1'"
        sans="$sans,$1"; shift ;;
    *) die "unknown argument '$1' (SANs are DNS:name or IP:address; try --help)" ;;
    esac
done
case "$days" in ''|*[!0-9]*) die "--days must be a number of days" ;; esac
printf '%s\n' "$cn" | grep -Eq '^[A-Za-z0-9*._-]{1,64}$' || die "invalid --cn '$cn'"
command -v openssl >/dev/null 2>&1 || die "openssl not found (Debian: apt-get install openssl)"

mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$dir/ca.crt" ] || [ ! -f "$dir/ca.key" ]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
    openssl req -new -x509 -sha256 -days "$days" -key "$dir/ca.key" \
        -subj "/O=kvmgrid test/CN=kvmgrid test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$dir/ca.crt"
    echo "mkcerts.sh: new test CA in $dir/ca.crt" >&2
fi

openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/server.key"
openssl req -new -sha256 -key "$tmp/server.key" -subj "/O=kvmgrid test/CN=$cn" -out "$tmp/server.csr"
cat > "$tmp/ext.cnf" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth
subjectAltName=$sans
EOF
openssl x509 -req -sha256 -days "$days" -in "$tmp/server.csr" \
    -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -CAserial "$tmp/ca.srl" \
    -extfile "$tmp/ext.cnf" -out "$tmp/server.crt" 2>/dev/null
openssl verify -CAfile "$dir/ca.crt" "$tmp/server.crt" >/dev/null || die "the new certificate does not verify"
mv "$tmp/server.key" "$dir/server.key"
mv "$tmp/server.crt" "$dir/server.crt"

chmod 644 "$dir/ca.crt" "$dir/server.crt"
chmod 600 "$dir/ca.key"
if [ "$(id -u)" -eq 0 ] && getent group mosquitto >/dev/null 2>&1; then
    chown root:mosquitto "$dir/server.key"
    chmod 640 "$dir/server.key"
else
    chmod 600 "$dir/server.key"
    echo "mkcerts.sh: warning: $dir/server.key is 0600 $(id -un); a broker that drops to user mosquitto needs root:mosquitto 0640" >&2
fi
chmod 755 "$dir"
echo "mkcerts.sh: $dir/server.crt for CN=$cn, $sans (valid $days days), signed by $dir/ca.crt" >&2
