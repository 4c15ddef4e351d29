// The push rules that need no server: what a coalesced push says, how long retries wait, when a
// conversation is silenced, and how configuration is read (a half-configured provider stops start).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Batch, PendingMessage } from "../services/push/coalescer.ts";
import { Coalescer } from "../services/push/coalescer.ts";
import { pushConfigFromEnv } from "../services/push/config.ts";
import { retryDelayMs } from "../services/push/delivery.ts";
import { silenced } from "../services/push/dispatcher.ts";
import { notificationFor } from "../services/push/notification.ts";

const message = (over: Partial<PendingMessage> = {}): PendingMessage => ({
  userId: "bob",
  deviceId: "phone",
  conversationId: "c1",
  sequence: 2n,
  senderName: "Alice",
  groupName: "",
  text: "hi",
  quiet: false,
  ...over,
});
const batch = (...messages: PendingMessage[]): Batch => ({ userId: "bob", deviceId: "phone", messages });

describe("what a push says", () => {
  test("direct, group, several conversations, and previews off", () => {
    assert.deepEqual(notificationFor(batch(message()), true), {
      conversationId: "c1",
      sequence: 2n,
      count: 1,
      quiet: false,
      title: "Alice",
      body: "hi",
    });
    const group = notificationFor(batch(message({ groupName: "Climbing", text: "rope?" })), true);
    assert.equal(group.title, "Climbing");
    assert.equal(group.body, "Alice: rope?");
    const mixed = notificationFor(batch(message(), message({ conversationId: "c2", sequence: 9n })), true);
    assert.deepEqual(
      [mixed.title, mixed.body, mixed.conversationId, mixed.sequence],
      ["Parley", "2 new messages in 2 conversations", "c2", 9n],
    );
    const hidden = notificationFor(batch(message({ text: "secret" }), message({ sequence: 3n })), false);
    assert.deepEqual([hidden.title, hidden.body, hidden.count], ["Parley", "2 new messages", 2]);
  });

  test("long text is clipped; quiet only when every message is quiet", () => {
    const long = notificationFor(batch(message({ text: "x".repeat(1000) })), true);
    assert.ok([...long.body].length <= 180);
    assert.ok(long.body.endsWith("…"));
    assert.equal(notificationFor(batch(message({ quiet: true }), message({ quiet: false, sequence: 3n })), true).quiet, false);
    assert.equal(notificationFor(batch(message({ quiet: true }), message({ quiet: true, sequence: 3n })), true).quiet, true);
  });
});

describe("coalescer", () => {
  test("one flush per window with each (conversation, sequence) once; a deferred batch keeps collecting", async () => {
    const flushed: Batch[] = [];
    const coalescer = new Coalescer({ windowMs: 50, onFlush: (b) => flushed.push(b) });
    assert.equal(coalescer.add(message()), true);
    assert.equal(coalescer.add(message()), false, "a redelivered event joins (and is not counted)");
    assert.equal(coalescer.add(message({ sequence: 3n })), false);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(
      flushed.map((b) => b.messages.map((m) => m.sequence)),
      [[2n, 3n]],
    );
    coalescer.defer(flushed[0] as Batch, 50);
    coalescer.add(message({ sequence: 4n }));
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(
      flushed[1]?.messages.map((m) => m.sequence),
      [2n, 3n, 4n],
    );
    assert.equal(coalescer.size, 0);
  });
});

describe("retry waits", () => {
  const policy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 5_000 };
  test("Retry-After wins; otherwise between half and all of an exponential ceiling", () => {
    assert.equal(retryDelayMs(policy, 1, 7_000), 7_000);
    assert.equal(retryDelayMs(policy, 3, 0), 0);
    assert.equal(
      retryDelayMs(policy, 1, undefined, () => 0),
      500,
    );
    assert.equal(
      retryDelayMs(policy, 1, undefined, () => 1),
      1_000,
    );
    assert.equal(
      retryDelayMs(policy, 3, undefined, () => 1),
      4_000,
    );
    assert.equal(
      retryDelayMs(policy, 10, undefined, () => 1),
      5_000,
      "capped",
    );
    assert.equal(
      retryDelayMs(policy, 10, undefined, () => 0),
      2_500,
    );
  });
});

describe("silenced conversations", () => {
  const base = { conversationId: "c", userId: "u" };
  test("level none, a running mute, forever; an expired mute is not", () => {
    assert.equal(silenced(undefined, 1_000), false);
    assert.equal(silenced({ ...base, level: "none", mutedUntil: null }, 1_000), true);
    assert.equal(silenced({ ...base, level: "all", mutedUntil: 2_000 }, 1_000), true);
    assert.equal(silenced({ ...base, level: "all", mutedUntil: 500 }, 1_000), false);
    assert.equal(silenced({ ...base, level: "quiet", mutedUntil: Number.POSITIVE_INFINITY }, 1_000), true);
    assert.equal(silenced({ ...base, level: "quiet", mutedUntil: null }, 1_000), false);
  });
});

describe("configuration", () => {
  test("defaults need nothing; every provider's variables come all together or not at all", () => {
    const defaults = pushConfigFromEnv({});
    assert.equal(defaults.fcm, undefined);
    assert.equal(defaults.apns, undefined);
    assert.equal(defaults.vapid, undefined);
    assert.equal(defaults.coalesceWindowMs, 2_000);
    assert.throws(() => pushConfigFromEnv({ PARLEY_APNS_KEY_FILE: "/k.p8", PARLEY_APNS_KEY_ID: "K" }), /APNs is half configured/);
    assert.throws(() => pushConfigFromEnv({ PARLEY_VAPID_SUBJECT: "mailto:a@b.c" }), /Web Push is half configured/);
    assert.throws(() => pushConfigFromEnv({ PARLEY_PUSH_MAX_ATTEMPTS: "0" }), /positive integer/);
    assert.throws(() => pushConfigFromEnv({ PARLEY_WEB_PUSH_ALLOW_HTTP: "yes" }), /true or false/);
    const apns = pushConfigFromEnv({
      PARLEY_APNS_KEY_FILE: "/k.p8",
      PARLEY_APNS_KEY_ID: "K",
      PARLEY_APNS_TEAM_ID: "T",
      PARLEY_APNS_TOPIC: "chat.parley",
      PARLEY_WEB_PUSH_HOSTS: " Push.Example , other.example ",
    });
    assert.deepEqual(apns.apns, { keyFile: "/k.p8", keyId: "K", teamId: "T", topic: "chat.parley", baseUrl: undefined });
    assert.deepEqual(apns.webPushHosts, ["push.example", "other.example"]);
  });
});
