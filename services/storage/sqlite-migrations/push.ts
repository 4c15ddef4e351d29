// Embedded schema changes for push: append named steps; never edit one that has shipped.
import type { NamedMigration } from "./named.ts";

export const pushMigrations: NamedMigration[] = [
  {
    name: "push-001-tokens-settings-outbox",
    sql: `
    -- one row per device that has a push token or preferences; a NULL provider means no token
    CREATE TABLE push_devices (
      device_id     TEXT PRIMARY KEY,
      user_id       TEXT NOT NULL,
      provider      TEXT,
      token         TEXT,             -- the token as JSON (Web Push: endpoint and keys)
      registered_at INTEGER,
      enabled       INTEGER NOT NULL DEFAULT 1,
      show_previews INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX push_devices_by_user ON push_devices(user_id);

    -- a member's mute and level of one conversation; no row means level "all", not muted
    CREATE TABLE push_conversation_settings (
      conversation_id TEXT NOT NULL,
      user_id         TEXT NOT NULL,
      level           TEXT NOT NULL,
      muted_until     INTEGER,
      muted_forever   INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (conversation_id, user_id)
    ) WITHOUT ROWID;

    -- pushes of providers without credentials (the embedded default), kept for a week
    CREATE TABLE push_outbox (
      push_id      TEXT PRIMARY KEY,
      user_id      TEXT NOT NULL,
      device_id    TEXT NOT NULL,
      provider     TEXT NOT NULL,
      notification TEXT NOT NULL,     -- JSON
      created_at   INTEGER NOT NULL
    );
    CREATE INDEX push_outbox_by_user ON push_outbox(user_id, created_at);
    CREATE INDEX push_outbox_by_time ON push_outbox(created_at);

    -- pushes given up on after bounded retries, kept 30 days for inspection
    CREATE TABLE push_dead_letters (
      push_id      TEXT PRIMARY KEY,
      user_id      TEXT NOT NULL,
      device_id    TEXT NOT NULL,
      provider     TEXT NOT NULL,
      notification TEXT NOT NULL,
      attempts     INTEGER NOT NULL,
      last_error   TEXT NOT NULL,
      failed_at    INTEGER NOT NULL
    );
    CREATE INDEX push_dead_letters_by_time ON push_dead_letters(failed_at);
    `,
  },
];
