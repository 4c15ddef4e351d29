// `npm run cassandra:migrate`: migrates the keyspace named by PARLEY_CASSANDRA_KEYSPACE on
// PARLEY_CASSANDRA_CONTACT (see client.ts). PARLEY_CASSANDRA_RF sets the replication factor of a new
// keyspace (default 1, for a local node).
import { settingsFromEnv } from "./client.ts";
import { loadMigrations, migrateKeyspace } from "./migrate.ts";

const settings = settingsFromEnv();
const replicationFactor = Number(process.env.PARLEY_CASSANDRA_RF ?? "1");
const applied = await migrateKeyspace({ ...settings, replicationFactor });
const latest = loadMigrations().at(-1)?.version ?? 0;
console.log(
  applied.length > 0
    ? `keyspace ${settings.keyspace}: applied ${applied.join(", ")} (now at ${latest})`
    : `keyspace ${settings.keyspace}: up to date (at ${latest})`,
);
