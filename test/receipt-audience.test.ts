// Live receipts go to a conversation's current members. A direct chat's members are read once (they
// never change); a group's are read for every receipt, so a member removed in between gets none.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { ReceiptAudience } from "../services/fanout/receipt-audience.ts";
import { SqliteUserStore } from "../services/identity/adapters/sqlite.ts";
import { SqliteConversationStore, SqliteEventLog } from "../services/messaging/adapters/sqlite.ts";
import type { ConversationStore } from "../services/messaging/ports.ts";
import { openDatabase } from "../services/storage/sqlite.ts";
import { messageEvent, uid } from "./contract/harness.ts";
import { countingStore } from "./helpers/counting-store.ts";
import { embeddedDirect, embeddedGroup } from "./helpers/embedded-group.ts";
import { tempDataDir } from "./helpers/parley.ts";

function setup() {
  const db = openDatabase({ dataDir: tempDataDir() });
  const users = new SqliteUserStore(db);
  const store = new SqliteConversationStore(db);
  // The real store, counting the reads the audience makes.
  const counted = countingStore(store as ConversationStore, ["get", "currentMemberIds"] as const);
  return { db, users, store, reads: counted.calls, audience: new ReceiptAudience(counted.store) };
}

test("a direct chat's members are read once and then remembered", async () => {
  const s = setup();
  const pair: [string, string] = [uid("a"), uid("b")];
  const id = await embeddedDirect({ users: s.users, conversations: s.store }, pair);
  for (let i = 0; i < 5; i++) assert.deepEqual((await s.audience.of(id)).sort(), [...pair].sort());
  assert.deepEqual(s.reads, { get: 1, currentMemberIds: 1 });
});

test("a group's members are read for every receipt, so a removal counts at once", async () => {
  const s = setup();
  const [owner, stays, leaves] = [uid("owner"), uid("stays"), uid("leaves")];
  const id = await embeddedGroup({ users: s.users, conversations: s.store }, [owner, stays, leaves]);
  assert.deepEqual((await s.audience.of(id)).sort(), [owner, stays, leaves].sort());
  await new SqliteEventLog(s.db).append({
    conversationId: id,
    event: messageEvent({ sender: owner, clientMessageId: "removal", text: "removal" }),
    membership: { remove: leaves },
  });
  assert.deepEqual((await s.audience.of(id)).sort(), [owner, stays].sort());
  // The kind is read once; the members every time.
  assert.deepEqual(s.reads, { get: 1, currentMemberIds: 2 });
});

test("an unknown conversation has nobody to tell and is not remembered", async () => {
  const s = setup();
  assert.deepEqual(await s.audience.of(randomUUID()), []);
  assert.deepEqual(await s.audience.of(randomUUID()), []);
  assert.deepEqual(s.reads, { get: 2, currentMemberIds: 2 });
});
