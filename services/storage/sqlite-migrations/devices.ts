// Embedded schema changes for devices: append named steps; never edit one that has shipped.
import type { NamedMigration } from "./named.ts";

export const devicesMigrations: NamedMigration[] = [
  {
    name: "devices-001-link-tokens",
    sql: `
    -- single-use tokens with which a signed-in device links a new one (by hash; rows expire)
    CREATE TABLE link_tokens (
      token_hash           TEXT PRIMARY KEY,
      user_id              TEXT NOT NULL REFERENCES users(user_id),
      created_by_device_id TEXT NOT NULL,
      history              TEXT NOT NULL,   -- 'full' or 'from_link'
      created_at           INTEGER NOT NULL,
      expires_at           INTEGER NOT NULL,
      spent_at             INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX link_tokens_by_expiry ON link_tokens(expires_at);
    `,
  },
  {
    name: "devices-002-presence-settings",
    sql: `
    -- who may see a user's presence; a user without a row has the default ('contacts')
    CREATE TABLE presence_settings (
      user_id    TEXT PRIMARY KEY REFERENCES users(user_id),
      visibility TEXT NOT NULL,          -- 'everyone', 'contacts' or 'nobody'
      updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    `,
  },
];
