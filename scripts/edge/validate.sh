#!/usr/bin/env bash
# Renders envoy/envoy.yaml with the current PARLEY_* / PARLEY_EDGE_* settings and checks it with
# `envoy --mode validate` (no listener is opened). Installs Envoy and the dev certificates first.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/edge/install.sh >/dev/null
bash scripts/edge/certs.sh >/dev/null
config="$(node scripts/edge/render.ts)"
envoy="$(node -e 'import("./scripts/edge/render.ts").then((m) => console.log(m.envoyBinary()))')"
"$envoy" --mode validate -c "$config" --log-level warn
