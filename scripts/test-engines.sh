#!/usr/bin/env bash
# The engine suite: starts Redis, Cassandra and Kafka (installing them if needed), prepares the
# schema and topics, runs the port contract suites against the engines and the multi-process
# cluster scenarios, then stops the engines again (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

engines_were_up=0
if bash scripts/engines/engines.sh status 2>/dev/null | grep -q ' up '; then engines_were_up=1; fi
stop_engines() {
  if [[ $engines_were_up == 0 ]]; then bash scripts/engines/engines.sh down || true; fi
}
trap stop_engines EXIT

bash scripts/engines/engines.sh up
npm run -s cassandra:migrate
npm run -s kafka:topics

# The contract suites exit on their own; --test-force-exit could end the run before every describe
# block had run and silently drop cases (seen in npm test), so only the cluster suites, whose
# child processes and clients may linger, get it.
PARLEY_ENGINES=1 node --disable-warning=TimeoutNegativeWarning --test --test-concurrency=1 --test-timeout=180000 \
  'test/contract/**/*.test.ts'
PARLEY_ENGINES=1 node --disable-warning=TimeoutNegativeWarning --test --test-force-exit --test-concurrency=1 --test-timeout=180000 \
  'test/engines/**/*.test.ts'
