#!/usr/bin/env bash
# Installs what the web client (clients/web) and test/edge/web.test.ts need, then builds the client:
# Debian's chromium (the test drives it with playwright-core, which downloads no browser) and
# libnss3-tools (certutil: the test trusts the dev CA through a throwaway NSS database),
# clients/web's own npm packages (npm ci with its lockfile), and `vite build` into clients/web/dist.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v certutil >/dev/null 2>&1 || need+=(libnss3-tools)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
/usr/bin/chromium --version

cd clients/web
npm ci --no-audit --no-fund
npx vite build
