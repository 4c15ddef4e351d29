#!/usr/bin/env bash
# Makes a development CA and a server certificate for localhost / 127.0.0.1 / ::1 in the edge run
# folder (never in the repository). Keeps existing files while the certificate is valid for a day.
# Output: ca.pem (trust this in clients), ca.key, server.pem, server.key.
set -euo pipefail

if ! command -v openssl >/dev/null 2>&1; then
  echo "installing openssl (Debian package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi

CACHE="${PARLEY_EDGE_CACHE:-$HOME/.cache/parley-edge}"
DIR="${PARLEY_EDGE_RUN_DIR:-$CACHE/run}"
mkdir -p "$DIR"
cd "$DIR"

if [ -s ca.pem ] && [ -s server.pem ] && [ -s server.key ] \
  && openssl x509 -in server.pem -noout -checkend 86400 >/dev/null 2>&1 \
  && openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1; then
  echo "edge certificates: $DIR (kept)"
  exit 0
fi

umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj "/CN=Parley dev edge CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
cat > server.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 \
  -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 644 ca.pem server.pem
echo "edge certificates: $DIR (new)"
