// Operations for the write-thread tests: the thread imports this module by its URL and runs
// these on its own connection, as it runs the messaging store's appends and receipts.
import type { DatabaseSync } from "node:sqlite";
import { conversationNotFound } from "../../services/shared/errors.ts";
import { prepared } from "../../services/storage/sqlite.ts";

/** Inserts a note; answers with its id and whether it ran inside a transaction. */
function note(db: DatabaseSync, body: Uint8Array) {
  const { lastInsertRowid } = prepared(db, "INSERT INTO notes (body) VALUES (?)").run(body);
  return { id: Number(lastInsertRowid), inTransaction: db.isTransaction };
}

/** Writes a note, then throws a Parley error or a plain one (its note must not commit). */
function refuse(db: DatabaseSync, kind: "parley" | "plain") {
  prepared(db, "INSERT INTO notes (body) VALUES (?)").run(new Uint8Array([0]));
  throw kind === "parley" ? conversationNotFound() : new Error("the plain failure");
}

/** Ends the thread the way a crash in it would. */
function exit(_db: DatabaseSync): never {
  process.exit(3);
}

export const operations = { note, refuse, exit };
export type TestOperations = typeof operations;
export const operationsUrl = new URL(import.meta.url);
