// Lists dead-lettered pushes for operators, newest first:
//   node services/push/dead-letters-cli.ts --data-dir ./data      (the embedded SQLite store)
//   node services/push/dead-letters-cli.ts --cassandra            (PARLEY_CASSANDRA_CONTACT / _KEYSPACE)
// Options: --hours N (how far back, default 24), --limit N (default 50), --json (one object per line).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { connectCassandra, settingsFromEnv } from "../storage/cassandra/client.ts";
import { CassandraDeadLetterStore } from "./adapters/cassandra.ts";
import { SqliteDeadLetterStore } from "./adapters/sqlite.ts";
import type { DeadLetter, DeadLetterStore } from "./ports.ts";

const { values } = parseArgs({
  options: {
    "data-dir": { type: "string" },
    cassandra: { type: "boolean", default: false },
    hours: { type: "string", default: "24" },
    limit: { type: "string", default: "50" },
    json: { type: "boolean", default: false },
  },
});
const hours = Number(values.hours);
const limit = Number(values.limit);
if (!Number.isFinite(hours) || hours <= 0) throw new Error("--hours must be a positive number");
if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error("--limit must be 1..10000");
if (!values.cassandra && !values["data-dir"]) throw new Error("give --data-dir DIR (embedded) or --cassandra");

let store: DeadLetterStore;
let close: () => Promise<void>;
if (values.cassandra) {
  const client = await connectCassandra(settingsFromEnv());
  store = new CassandraDeadLetterStore(client);
  close = () => client.shutdown();
} else {
  const path = join(values["data-dir"] as string, "parley.db");
  if (!existsSync(path)) throw new Error(`no Parley database at ${path}`);
  // Read-only: safe beside a running server (WAL readers do not block it).
  const db = new DatabaseSync(path, { readOnly: true });
  store = new SqliteDeadLetterStore(db);
  close = async () => db.close();
}

const line = (l: DeadLetter) =>
  values.json
    ? JSON.stringify({ ...l, notification: { ...l.notification, sequence: l.notification.sequence.toString() } })
    : [
        new Date(l.failedAt).toISOString(),
        l.provider,
        `device ${l.deviceId}`,
        `${l.attempts} attempt${l.attempts === 1 ? "" : "s"}`,
        `conversation ${l.notification.conversationId} #${l.notification.sequence} (${l.notification.count} msg)`,
        `last error: ${l.lastError}`,
      ].join("  ");

try {
  const letters = await store.list(Date.now() - hours * 3_600_000, limit);
  for (const letter of letters) console.log(line(letter));
  if (!values.json) console.log(`${letters.length} dead-lettered push${letters.length === 1 ? "" : "es"} in the last ${hours} h`);
} finally {
  await close();
}
