// Embedded schema changes for groups: append named steps; never edit one that has shipped.
import type { NamedMigration } from "./named.ts";

export const groupsMigrations: NamedMigration[] = [
  {
    name: "groups-001-administration",
    sql: `
    -- group state: info, settings (JSON of GroupSettings; NULL = defaults), the membership version
    -- that every membership, role, ban, settings or deletion change bumps, and the deletion mark
    ALTER TABLE conversations ADD COLUMN description TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversations ADD COLUMN picture_ref TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversations ADD COLUMN settings TEXT;
    ALTER TABLE conversations ADD COLUMN membership_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN deleted_at INTEGER;
    CREATE INDEX conversations_deleted ON conversations(deleted_at) WHERE deleted_at IS NOT NULL;

    -- first readable sequence (NULL = joined_at_seq) and the ban mark (the event that banned)
    ALTER TABLE members ADD COLUMN visible_from_seq INTEGER;
    ALTER TABLE members ADD COLUMN banned_at_seq INTEGER;

    CREATE TABLE invite_links (
      code            TEXT PRIMARY KEY,
      conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id),
      created_by      TEXT NOT NULL,
      created_at      INTEGER NOT NULL,
      expires_at      INTEGER,          -- NULL: never
      max_uses        INTEGER NOT NULL, -- 0: unlimited
      uses            INTEGER NOT NULL DEFAULT 0,
      revoked_at      INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX invite_links_by_conversation ON invite_links(conversation_id, created_at);

    CREATE TABLE join_requests (
      conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id),
      user_id         TEXT NOT NULL,
      code            TEXT NOT NULL,
      requested_at    INTEGER NOT NULL,
      PRIMARY KEY (conversation_id, user_id)
    ) WITHOUT ROWID;
    `,
  },
];
