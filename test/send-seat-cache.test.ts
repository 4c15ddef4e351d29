// The send path remembers the seat that allowed a send. A change that forbids sending raises the
// membership version, so the next send with the remembered seat loses the append's
// compare-and-set and is authorized afresh: nothing is sent past a removal, a ban or a switch to
// announcement-only, and a retry is answered only to a sender still allowed now.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { SendMessageRequestSchema } from "../gen/parley/v1/messaging_pb.js";
import { createMemoryBus } from "../services/bus/adapters/memory.ts";
import { SqliteUserStore } from "../services/identity/adapters/sqlite.ts";
import { createAccess } from "../services/messaging/access.ts";
import { SqliteConversationStore, SqliteEventLog } from "../services/messaging/adapters/sqlite.ts";
import { defaultMessagingLimits } from "../services/messaging/limits.ts";
import { defaultGroupSettings } from "../services/messaging/ports.ts";
import { createSend } from "../services/messaging/send.ts";
import { SequenceFloor } from "../services/messaging/sequence-floor.ts";
import type { Caller } from "../services/shared/auth.ts";
import { createUuidV7Generator, systemClock } from "../services/shared/clock.ts";
import { reasonOf } from "../services/shared/errors.ts";
import { createLogger } from "../services/shared/logger.ts";
import { openDatabase } from "../services/storage/sqlite.ts";
import { messageEvent, uid } from "./contract/harness.ts";
import { embeddedGroup } from "./helpers/embedded-group.ts";
import { tempDataDir } from "./helpers/parley.ts";

async function setup() {
  const db = openDatabase({ dataDir: tempDataDir() });
  const users = new SqliteUserStore(db);
  const store = new SqliteConversationStore(db);
  const log = new SqliteEventLog(db);
  let seatReads = 0;
  const access = createAccess(
    new Proxy(store, {
      get(target, property) {
        if (property === "seat") seatReads++;
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }),
  );
  const bus = createMemoryBus({ logger: createLogger({ level: "error" }) });
  const send = createSend({
    access,
    log,
    bus,
    clock: systemClock,
    ids: createUuidV7Generator(),
    limits: defaultMessagingLimits,
    floor: new SequenceFloor(),
  });
  const [owner, member] = [uid("owner"), uid("member")];
  const conversationId = await embeddedGroup({ users, conversations: store }, [owner, member]);
  const caller = (userId: string): Caller => ({ userId, deviceId: `${userId}-d`, token: "t", expiresAt: Date.now() + 60_000 });
  const text = (clientMessageId: string) =>
    create(SendMessageRequestSchema, {
      conversationId,
      clientMessageId,
      content: { kind: { case: "text", value: { body: clientMessageId } } },
    });
  const change = (input: Omit<Parameters<typeof log.append>[0], "conversationId" | "event">) =>
    log.append({ conversationId, event: messageEvent({ sender: owner, clientMessageId: uid("c"), text: "change" }), ...input });
  return { send, caller, text, change, owner, member, reads: () => seatReads, close: () => bus.close() };
}

const refusedAs = (code: Code, reason: string) => (error: unknown) =>
  error instanceof ConnectError && error.code === code && reasonOf(error) === reason;

test("a remembered seat serves the next send; a removal refuses the one after, a retry included", async () => {
  const s = await setup();
  await s.send(s.caller(s.member), s.text("m1"));
  await s.send(s.caller(s.member), s.text("m2"));
  assert.equal(s.reads(), 1, "the second send used the remembered seat");
  await s.change({ membership: { remove: s.member } });
  // A retry of a stored message first, while the stale seat is still remembered.
  await assert.rejects(s.send(s.caller(s.member), s.text("m2")), refusedAs(Code.NotFound, "CONVERSATION_NOT_FOUND"));
  await assert.rejects(s.send(s.caller(s.member), s.text("m3")), refusedAs(Code.NotFound, "CONVERSATION_NOT_FOUND"));
  await s.close();
});

test("announcement-only refuses a remembered member at once, and allowing again lets them send", async () => {
  const s = await setup();
  await s.send(s.caller(s.member), s.text("before"));
  await s.change({ group: { settings: { ...defaultGroupSettings, sendMessages: "admins" } } });
  await assert.rejects(s.send(s.caller(s.member), s.text("during")), refusedAs(Code.PermissionDenied, "ANNOUNCEMENT_ONLY"));
  await s.change({ group: { settings: defaultGroupSettings } });
  const after = await s.send(s.caller(s.member), s.text("after"));
  assert.equal(after.duplicate, false);
  await s.close();
});
