// Opens the embedded store: one SQLite file in the data directory, WAL journal, schema migrated.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { migrate } from "./migrations.ts";

export type SyncMode = "normal" | "full";

export interface SqliteOptions {
  dataDir: string;
  /**
   * normal: a commit survives a process crash (SIGKILL) but not an OS crash; full: fsync on every
   * commit, survives power loss, costs one disk flush per write.
   */
  sync?: SyncMode;
}

/** The database file of a data directory. */
export const databasePath = (dataDir: string) => join(dataDir, "parley.db");

export function openDatabase(options: SqliteOptions): DatabaseSync {
  mkdirSync(options.dataDir, { recursive: true });
  const db = connect(databasePath(options.dataDir), options.sync);
  migrate(db);
  return db;
}

/** One more connection to a database file, set up as the serving one (no migrations). */
export function connect(path: string, sync: SyncMode = "normal"): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`PRAGMA synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  return db;
}

/**
 * Runs reads of several statements on one snapshot. A connection in another thread may commit
 * between two statements (the write thread, write-thread.ts); inside a read transaction it cannot
 * change what they see.
 */
export function snapshot<T>(db: DatabaseSync, fn: () => T): T {
  if (db.isTransaction) return fn();
  db.exec("BEGIN");
  try {
    return fn();
  } finally {
    db.exec("COMMIT");
  }
}

/** Runs fn inside BEGIN IMMEDIATE ... COMMIT; node:sqlite is synchronous, so nothing interleaves. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** Flushes the WAL into the main file and closes; called on graceful shutdown. */
export function closeDatabase(db: DatabaseSync): void {
  if (!db.isOpen) return;
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
}

const statementCache = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/** Prepares each SQL text once per database and reuses the statement (prepare costs more than run). */
export function prepared(db: DatabaseSync, sql: string): StatementSync {
  let cache = statementCache.get(db);
  if (!cache) {
    cache = new Map();
    statementCache.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}
