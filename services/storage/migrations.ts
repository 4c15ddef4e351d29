// The embedded schema: the core tables versioned with PRAGMA user_version, then each area's named
// steps (sqlite-migrations/) recorded in schema_migrations. Append migrations; never edit old ones.
import type { DatabaseSync } from "node:sqlite";
import { devicesMigrations } from "./sqlite-migrations/devices.ts";
import { groupsMigrations } from "./sqlite-migrations/groups.ts";
import type { NamedMigration } from "./sqlite-migrations/named.ts";
import { pushMigrations } from "./sqlite-migrations/push.ts";

const migrations: string[] = [
  `
  -- identity
  CREATE TABLE users (
    user_id       TEXT PRIMARY KEY,
    phone_number  TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    created_at    INTEGER NOT NULL
  );
  CREATE TABLE login_codes (
    phone_number  TEXT PRIMARY KEY,
    code_hash     TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    window_start  INTEGER NOT NULL,
    sent_in_window INTEGER NOT NULL
  );
  CREATE TABLE devices (
    device_id     TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(user_id),
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
  );
  CREATE INDEX devices_by_user ON devices(user_id);
  -- every refresh token ever issued, so that reuse of a spent one is detected
  CREATE TABLE refresh_tokens (
    token_hash    TEXT PRIMARY KEY,
    device_id     TEXT NOT NULL REFERENCES devices(device_id),
    issued_at     INTEGER NOT NULL,
    spent_at      INTEGER
  ) WITHOUT ROWID;

  -- conversations and membership
  CREATE TABLE conversations (
    conversation_id TEXT PRIMARY KEY,
    kind            INTEGER NOT NULL,
    name            TEXT NOT NULL,
    direct_key      TEXT UNIQUE,      -- "<smaller user id>:<larger user id>" for direct chats
    creation_key    TEXT UNIQUE,      -- "<creator>:<client_request_id>" for groups
    created_at      INTEGER NOT NULL,
    last_sequence   INTEGER NOT NULL,
    last_activity   INTEGER NOT NULL
  );
  CREATE TABLE members (
    conversation_id   TEXT NOT NULL REFERENCES conversations(conversation_id),
    user_id           TEXT NOT NULL REFERENCES users(user_id),
    role              TEXT NOT NULL,
    joined_at_seq     INTEGER NOT NULL,
    left_at_seq       INTEGER,          -- the MemberRemoved event; NULL while a member
    delivered_through INTEGER NOT NULL DEFAULT 0,
    read_through      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX members_by_user ON members(user_id, conversation_id);

  -- the ordered log: one row per event, the protobuf ConversationEvent in payload
  CREATE TABLE events (
    conversation_id   TEXT NOT NULL,
    sequence          INTEGER NOT NULL,
    sender_user_id    TEXT NOT NULL,
    client_message_id TEXT,
    payload           BLOB NOT NULL,
    PRIMARY KEY (conversation_id, sequence)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX events_idempotency ON events(conversation_id, sender_user_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

  -- how far each device has acknowledged each conversation
  CREATE TABLE device_cursors (
    device_id       TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sequence        INTEGER NOT NULL,
    PRIMARY KEY (device_id, conversation_id)
  ) WITHOUT ROWID;
  `,
];

export function migrate(db: DatabaseSync): void {
  const row = db.prepare("PRAGMA user_version").get() as {
    user_version: number;
  };
  for (let version = row.user_version; version < migrations.length; version++) {
    db.exec("BEGIN IMMEDIATE");
    db.exec(migrations[version] as string);
    db.exec(`PRAGMA user_version = ${version + 1}`);
    db.exec("COMMIT");
  }
  applyNamed(db, [...groupsMigrations, ...devicesMigrations, ...pushMigrations]);
}

function applyNamed(db: DatabaseSync, steps: NamedMigration[]): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const applied = new Set((db.prepare("SELECT name FROM schema_migrations").all() as { name: string }[]).map((row) => row.name));
  for (const step of steps) {
    if (applied.has(step.name)) continue;
    db.exec("BEGIN IMMEDIATE");
    db.exec(step.sql);
    db.prepare("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)").run(step.name, Date.now());
    db.exec("COMMIT");
  }
}
