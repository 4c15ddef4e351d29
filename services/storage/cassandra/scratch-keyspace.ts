// A throwaway keyspace for tests and measurements: a fresh name (no earlier run used it), migrated,
// with a client bound to it; drop() removes it. Keyspace creation takes seconds, so callers share
// one per process and keep cases apart with unique ids.
import { randomBytes } from "node:crypto";
import { type CassandraClient, connectCassandra, settingsFromEnv } from "./client.ts";
import { dropKeyspace, migrateKeyspace } from "./migrate.ts";

export interface ScratchKeyspace {
  keyspace: string;
  client: CassandraClient;
  drop(): Promise<void>;
}

export async function openScratchKeyspace(prefix = "parley_test"): Promise<ScratchKeyspace> {
  const settings = settingsFromEnv();
  const keyspace = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await migrateKeyspace({ ...settings, keyspace });
  const client = await connectCassandra({ ...settings, keyspace });
  return {
    keyspace,
    client,
    async drop() {
      await client.shutdown();
      await dropKeyspace(settings, keyspace);
    },
  };
}
