// Applies migrations/NNN-name.cql in order to a keyspace and records each applied version in its
// schema_migrations table. Every statement is IF NOT EXISTS, so a run cut short is simply re-run.
// Run it once per deployment (npm run cassandra:migrate), not from every process: concurrent DDL
// from several coordinators can create conflicting table ids on a multi-node cluster.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type CassandraSettings, checkKeyspaceName, connectCassandra, select, write } from "./client.ts";

const migrationsDir = join(import.meta.dirname, "migrations");

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** The migration files, ordered by their number. */
export function loadMigrations(dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .map((file) => /^(\d+)-(.+)\.cql$/.exec(file))
    .filter((match) => match !== null)
    .map((match) => ({
      version: Number(match[1]),
      name: match[2] as string,
      statements: splitStatements(readFileSync(join(dir, match[0]), "utf8")),
    }))
    .sort((a, b) => a.version - b.version);
}

/** Splits a file on the semicolons that end statements, dropping -- comments. */
function splitStatements(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n")
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface MigrateOptions extends CassandraSettings {
  /** Replication factor of a keyspace created here (SimpleStrategy; 1 for a local node). */
  replicationFactor?: number;
}

/** Creates the keyspace if needed and applies the migrations it lacks; returns the versions applied. */
export async function migrateKeyspace(options: MigrateOptions): Promise<number[]> {
  const keyspace = checkKeyspaceName(options.keyspace);
  const admin = await connectCassandra({ ...options, keyspace: undefined });
  try {
    const rf = options.replicationFactor ?? 1;
    await admin.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${rf}}`,
    );
  } finally {
    await admin.shutdown();
  }
  const client = await connectCassandra({ ...options, keyspace });
  try {
    await client.execute(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text, applied_at timestamp)",
    );
    const applied = new Set((await select(client, "SELECT version FROM schema_migrations", [])).map((r) => r.version as number));
    const done: number[] = [];
    for (const migration of loadMigrations()) {
      if (applied.has(migration.version)) continue;
      // DDL is not prepared; the driver waits for schema agreement after each statement.
      for (const statement of migration.statements) await client.execute(statement);
      await write(client, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [
        migration.version,
        migration.name,
        new Date(),
      ]);
      done.push(migration.version);
    }
    return done;
  } finally {
    await client.shutdown();
  }
}

/** Drops a keyspace (test suites clean up the keyspace they made). */
export async function dropKeyspace(settings: Omit<CassandraSettings, "keyspace">, keyspace: string): Promise<void> {
  const admin = await connectCassandra({ ...settings, keyspace: undefined });
  try {
    await admin.execute(`DROP KEYSPACE IF EXISTS ${checkKeyspaceName(keyspace)}`);
  } finally {
    await admin.shutdown();
  }
}
