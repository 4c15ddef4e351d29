#!/usr/bin/env bash
# Prepares the native Python client (clients/python/parley_chat.py): a virtualenv under the edge
# cache folder with pinned grpcio, grpcio-tools and protobuf from PyPI, and Python stubs generated from
# proto/parley/v1 with grpcio-tools' protoc and its local plugins (no remote plugins). The stubs
# go outside the repository and are regenerated on every run, so they always match proto/.
# Output: $CACHE/py-client/venv/bin/python and $CACHE/py-client/gen (put it on PYTHONPATH).
set -euo pipefail

GRPC_VERSION="${PARLEY_PY_GRPC_VERSION:-1.85.1}"
PROTOBUF_VERSION="${PARLEY_PY_PROTOBUF_VERSION:-7.36.2}"
CACHE="${PARLEY_EDGE_CACHE:-$HOME/.cache/parley-edge}"
DIR="$CACHE/py-client"
VENV="$DIR/venv"
GEN="$DIR/gen"
PY="$VENV/bin/python"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

mkdir -p "$DIR"
if [ ! -x "$PY" ]; then
  python3 -m venv "$VENV"
fi
have() { "$PY" -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p' || true; }
if [ "$(have grpcio)" != "$GRPC_VERSION" ] || [ "$(have grpcio-tools)" != "$GRPC_VERSION" ] \
  || [ "$(have protobuf)" != "$PROTOBUF_VERSION" ]; then
  "$PY" -m pip install --disable-pip-version-check --quiet \
    "grpcio==$GRPC_VERSION" "grpcio-tools==$GRPC_VERSION" "protobuf==$PROTOBUF_VERSION"
fi

# Regenerate from scratch into a fresh folder, then swap it in.
rm -rf "$GEN.tmp"
mkdir -p "$GEN.tmp"
(cd "$ROOT/proto" && "$PY" -m grpc_tools.protoc -I . \
  --python_out="$GEN.tmp" --pyi_out="$GEN.tmp" --grpc_python_out="$GEN.tmp" parley/v1/*.proto)
rm -rf "$GEN"
mv "$GEN.tmp" "$GEN"

echo "python client: grpcio $(have grpcio), grpcio-tools $(have grpcio-tools), protobuf $(have protobuf), $("$PY" --version)"
echo "python: $PY"
echo "stubs: $GEN"
