// A turn's acks of one conversation are authorized by one seats read, and each is still judged
// on its own: strangers are refused, former members clamped, the others raised.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ReceiptUpdate } from "../gen/parley/v1/events_pb.js";
import { createMemoryBus } from "../services/bus/adapters/memory.ts";
import { SqliteUserStore } from "../services/identity/adapters/sqlite.ts";
import { createAccess } from "../services/messaging/access.ts";
import { SqliteConversationStore, SqliteEventLog, SqliteReceiptStore } from "../services/messaging/adapters/sqlite.ts";
import type { ConversationStore } from "../services/messaging/ports.ts";
import { createReceipts } from "../services/messaging/receipts.ts";
import { SequenceFloor } from "../services/messaging/sequence-floor.ts";
import type { Caller } from "../services/shared/auth.ts";
import { reasonOf } from "../services/shared/errors.ts";
import { createLogger } from "../services/shared/logger.ts";
import { openDatabase } from "../services/storage/sqlite.ts";
import { messageEvent, uid } from "./contract/harness.ts";
import { countingStore } from "./helpers/counting-store.ts";
import { embeddedGroup } from "./helpers/embedded-group.ts";
import { tempDataDir } from "./helpers/parley.ts";

function setup() {
  const db = openDatabase({ dataDir: tempDataDir() });
  const users = new SqliteUserStore(db);
  const store = new SqliteConversationStore(db);
  // The real store, counting its membership reads and keeping the bound each seats read was given.
  const { store: counted, calls: reads } = countingStore(store as ConversationStore, ["seat", "seats"] as const);
  const bounds: (bigint | undefined)[] = [];
  const watched = new Proxy(counted, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property !== "seats") return typeof value === "function" ? value.bind(target) : value;
      return (...args: Parameters<ConversationStore["seats"]>) => {
        bounds.push(args[2]?.lastSequenceAtLeast);
        return (value as ConversationStore["seats"]).apply(target, args);
      };
    },
  });
  const bus = createMemoryBus({ logger: createLogger({ level: "error" }) });
  const log = new SqliteEventLog(db);
  const floor = new SequenceFloor();
  const receipts = createReceipts({
    access: createAccess(watched),
    store: watched,
    receipts: new SqliteReceiptStore(db),
    bus,
    floor,
  });
  /** A group under a real id (receipts check the id's form); the first member owns it. */
  const group = (userIds: string[]) => embeddedGroup({ users, conversations: store }, userIds);
  return { store: counted, log, receipts, bus, reads, group, floor, bounds };
}

const caller = (userId: string): Caller => ({ userId, deviceId: `${userId}-device`, token: "t", expiresAt: Date.now() + 60_000 });

test("acks of one turn share one seats read per conversation and each gets its own answer", async () => {
  const s = setup();
  const members = Array.from({ length: 40 }, (_, i) => uid(`m${i}`));
  const conv = { conversationId: await s.group(members) };
  const otherOwner = uid("other");
  const other = { conversationId: await s.group([otherOwner, uid("peer")]) };
  const member = (i: number) => members[i] ?? "";
  const [owner, leaver, reader, sample] = [member(0), member(1), member(2), member(5)];
  const stranger = uid("stranger");
  const removal = await s.log.append({
    conversationId: conv.conversationId,
    event: messageEvent({ sender: owner, clientMessageId: "x", text: "admin" }),
    membership: { remove: leaver },
  });
  const { event } = await s.log.append({
    conversationId: conv.conversationId,
    event: messageEvent({ sender: owner, clientMessageId: "m", text: "hello all" }),
    clientMessageId: "m",
  });
  const published: ReceiptUpdate[] = [];
  await s.bus.subscribe("receipts", "test", async (r) => void published.push(r));
  s.reads.seat = 0;

  const acks = [
    ...members.map((m) => s.receipts.markDelivered(caller(m), conv.conversationId, event.sequence)),
    s.receipts.markRead(caller(reader), conv.conversationId, event.sequence),
    s.receipts.markDelivered(caller(stranger), conv.conversationId, event.sequence),
    s.receipts.markDelivered(caller(otherOwner), other.conversationId, 1n),
  ];
  const settled = await Promise.allSettled(acks);

  assert.equal(s.reads.seats, 2, "one read per conversation");
  assert.equal(s.reads.seat, 1, "only the refused stranger is read again, by the reader check");
  const value = (i: number) => (settled[i] as PromiseFulfilledResult<{ deliveredThrough: bigint; readThrough: bigint }>).value;
  assert.equal(value(0).deliveredThrough, event.sequence);
  assert.equal(value(1).deliveredThrough, removal.event.sequence, "a former member is clamped to the removal");
  for (let i = 2; i < members.length; i++) assert.equal(value(i).deliveredThrough, event.sequence);
  assert.deepEqual([value(members.length).readThrough, value(members.length).deliveredThrough], [event.sequence, event.sequence]);
  const refused = settled[members.length + 1] as PromiseRejectedResult;
  assert.ok(refused.reason instanceof ConnectError && refused.reason.code === Code.NotFound);
  assert.equal(reasonOf(refused.reason), "CONVERSATION_NOT_FOUND");
  assert.equal(value(members.length + 2).deliveredThrough, 1n);

  const stored = new Map((await s.store.members(conv.conversationId)).map((m) => [m.userId, m]));
  assert.equal(stored.get(sample)?.deliveredThrough, event.sequence);
  assert.equal(stored.get(reader)?.readThrough, event.sequence);
  assert.equal(stored.get(leaver)?.deliveredThrough, removal.event.sequence);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(published.some((r) => r.userId === sample && r.deliveredThrough === event.sequence));
  await s.bus.close();
});

test("acks at or below what this process saw decided give the store that floor; one above it does not, and is clamped", async () => {
  const s = setup();
  const [owner, peer] = [uid("owner"), uid("peer")];
  const conversationId = await s.group([owner, peer]);
  const append = (id: string) =>
    s.log.append({ conversationId, event: messageEvent({ sender: owner, clientMessageId: id, text: id }), clientMessageId: id });
  const first = await append("m1");
  s.floor.raise(conversationId, first.event.sequence);
  const second = await append("m2");

  assert.equal(
    (await s.receipts.markDelivered(caller(peer), conversationId, first.event.sequence)).deliveredThrough,
    first.event.sequence,
  );
  // The second message was not seen here (another process sent it): its ack needs the head.
  assert.equal(
    (await s.receipts.markDelivered(caller(peer), conversationId, second.event.sequence)).deliveredThrough,
    second.event.sequence,
  );
  // Beyond anything that exists: clamped to the real last sequence, not to the floor.
  assert.equal((await s.receipts.markRead(caller(peer), conversationId, 99n)).readThrough, second.event.sequence);
  assert.deepEqual(s.bounds, [first.event.sequence, undefined, undefined]);
  await s.bus.close();
});

test("a bad conversation id is refused before it joins a batch", async () => {
  const s = setup();
  await assert.rejects(
    s.receipts.markDelivered(caller(uid("u")), "", 1n),
    (e) => e instanceof ConnectError && e.code === Code.InvalidArgument,
  );
  assert.equal(s.reads.seats, 0);
  await s.bus.close();
});
