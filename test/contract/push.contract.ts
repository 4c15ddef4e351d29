// Contract suite of the push store ports (services/push/ports.ts): device tokens and preferences,
// per-conversation settings, the outbox and dead letters; and of ConnectedDevices, over any
// route registry and over the gateway's own session registry. Ids are unique per case, so adapters sharing a keyspace never see each other.
import assert from "node:assert/strict";
import { describe } from "node:test";
import type { RouteRegistry } from "../../services/gateway/ports.ts";
import { RouteConnectedDevices } from "../../services/push/adapters/route-connected.ts";
import type {
  ConnectedDevices,
  ConversationSettingStore,
  DeadLetterStore,
  Notification,
  PushDeviceStore,
  PushOutbox,
  PushToken,
} from "../../services/push/ports.ts";
import { type Cleanup, type ContractOptions, contractCases, uid } from "./harness.ts";

export interface PushAdapters extends Cleanup {
  devices: PushDeviceStore;
  settings: ConversationSettingStore;
  outbox: PushOutbox;
  deadLetters: DeadLetterStore;
}

const fcm = (token: string): PushToken => ({ provider: "fcm", token });
const web: PushToken = {
  provider: "webpush",
  endpoint: "https://fcm.googleapis.com/fcm/send/abc:def",
  p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
  auth: "tBHItJI5svbpez7KI4CCXg",
};
const notification = (sequence: bigint, over: Partial<Notification> = {}): Notification => ({
  conversationId: "c-1",
  sequence,
  count: 2,
  title: "Alice",
  body: "hi (+1 more)",
  quiet: false,
  ...over,
});
const byDevice = <T extends { deviceId: string }>(items: T[]) => [...items].sort((a, b) => a.deviceId.localeCompare(b.deviceId));

export function pushStoresContract(name: string, make: () => Promise<PushAdapters>, options?: ContractOptions) {
  describe(`Push stores contract: ${name}`, () => {
    const c = contractCases(make, options);

    c.test("a registered token is found by its user with default preferences", async ({ devices }) => {
      const [u, d] = [uid("user"), uid("device")];
      await devices.register(u, d, fcm("t1"), 1_000);
      assert.deepEqual(await devices.devicesOf([u]), [
        { userId: u, deviceId: d, token: fcm("t1"), registeredAt: 1_000, preferences: { enabled: true, showPreviews: true } },
      ]);
      assert.deepEqual(await devices.devicesOf([uid("nobody")]), []);
      assert.deepEqual(await devices.devicesOf([]), []);
    });

    c.test("registering again replaces the device's token; a web push subscription round-trips", async ({ devices }) => {
      const [u, d] = [uid("user"), uid("device")];
      await devices.register(u, d, fcm("old"), 1);
      await devices.register(u, d, web, 2);
      const [device] = await devices.devicesOf([u]);
      assert.deepEqual(device?.token, web);
      assert.equal(device?.registeredAt, 2);
    });

    c.test("devicesOf returns every device of every user asked, each once", async ({ devices }) => {
      const [a, b, other] = [uid("user"), uid("user"), uid("user")];
      const [a1, a2, b1, o1] = [uid("device"), uid("device"), uid("device"), uid("device")];
      await devices.register(a, a1, fcm("a1"), 1);
      await devices.register(a, a2, fcm("a2"), 1);
      await devices.register(b, b1, fcm("b1"), 1);
      await devices.register(other, o1, fcm("o1"), 1);
      const found = await devices.devicesOf([a, b, a]);
      assert.deepEqual(
        byDevice(found).map((d) => [d.userId, d.deviceId]),
        byDevice([
          { userId: a, deviceId: a1 },
          { userId: a, deviceId: a2 },
          { userId: b, deviceId: b1 },
        ]).map((d) => [d.userId, d.deviceId]),
      );
    });

    c.test("unregister removes the token once and keeps the preferences", async ({ devices }) => {
      const [u, d] = [uid("user"), uid("device")];
      await devices.setPreferences(u, d, { enabled: false, showPreviews: false });
      await devices.register(u, d, fcm("t"), 1);
      assert.equal(await devices.unregister(u, d), true);
      assert.equal(await devices.unregister(u, d), false);
      assert.deepEqual(await devices.devicesOf([u]), [
        { userId: u, deviceId: d, token: null, registeredAt: null, preferences: { enabled: false, showPreviews: false } },
      ]);
    });

    c.test("unregister with onlyIf leaves a newer token alone", async ({ devices }) => {
      const [u, d] = [uid("user"), uid("device")];
      await devices.register(u, d, fcm("old"), 1);
      await devices.register(u, d, fcm("new"), 2);
      assert.equal(await devices.unregister(u, d, fcm("old")), false);
      assert.deepEqual((await devices.devicesOf([u]))[0]?.token, fcm("new"));
      assert.equal(await devices.unregister(u, d, fcm("new")), true);
      assert.equal((await devices.devicesOf([u]))[0]?.token ?? null, null);
    });

    c.test("preferences and token are written independently", async ({ devices }) => {
      const [u, d] = [uid("user"), uid("device")];
      await devices.setPreferences(u, d, { enabled: true, showPreviews: false });
      assert.deepEqual(await devices.devicesOf([u]), [
        { userId: u, deviceId: d, token: null, registeredAt: null, preferences: { enabled: true, showPreviews: false } },
      ]);
      await devices.register(u, d, fcm("t"), 5);
      await devices.setPreferences(u, d, { enabled: false, showPreviews: false });
      assert.deepEqual(await devices.devicesOf([u]), [
        { userId: u, deviceId: d, token: fcm("t"), registeredAt: 5, preferences: { enabled: false, showPreviews: false } },
      ]);
    });

    c.test("forget removes the device entirely and is idempotent", async ({ devices }) => {
      const [u, d, keep] = [uid("user"), uid("device"), uid("device")];
      await devices.register(u, d, fcm("t"), 1);
      await devices.register(u, keep, fcm("k"), 1);
      await devices.forget(u, d);
      await devices.forget(u, d);
      assert.deepEqual(
        (await devices.devicesOf([u])).map((x) => x.deviceId),
        [keep],
      );
    });

    c.test("every write shows in the next read, whatever was read before it", async ({ devices, settings }) => {
      const [u, d] = [uid("user"), uid("device")];
      const tokenOf = async () => (await devices.devicesOf([u]))[0]?.token ?? null;
      assert.equal(await tokenOf(), null);
      await devices.register(u, d, fcm("first"), 1);
      assert.deepEqual(await tokenOf(), fcm("first"));
      await devices.register(u, d, fcm("second"), 2);
      assert.deepEqual(await tokenOf(), fcm("second"));
      await devices.setPreferences(u, d, { enabled: false, showPreviews: false });
      assert.deepEqual((await devices.devicesOf([u]))[0]?.preferences, { enabled: false, showPreviews: false });
      await devices.unregister(u, d);
      assert.equal(await tokenOf(), null);
      await devices.forget(u, d);
      assert.deepEqual(await devices.devicesOf([u]), []);

      const conversation = uid("conversation");
      assert.equal((await settings.forConversation(conversation)).size, 0);
      await settings.set({ conversationId: conversation, userId: u, level: "quiet", mutedUntil: null });
      assert.equal((await settings.forConversation(conversation)).get(u)?.level, "quiet");
      await settings.set({ conversationId: conversation, userId: u, level: "none", mutedUntil: 5 });
      assert.deepEqual((await settings.forConversation(conversation)).get(u), {
        conversationId: conversation,
        userId: u,
        level: "none",
        mutedUntil: 5,
      });
    });

    c.test("conversation settings: last write wins, per member, muted forever round-trips", async ({ settings }) => {
      const [conversation, other] = [uid("conversation"), uid("conversation")];
      const [bob, carol] = [uid("user"), uid("user")];
      await settings.set({ conversationId: conversation, userId: bob, level: "none", mutedUntil: null });
      await settings.set({ conversationId: conversation, userId: bob, level: "quiet", mutedUntil: 1_700_000_000_000 });
      await settings.set({ conversationId: conversation, userId: carol, level: "all", mutedUntil: Number.POSITIVE_INFINITY });
      await settings.set({ conversationId: other, userId: bob, level: "none", mutedUntil: null });
      const found = await settings.forConversation(conversation);
      assert.deepEqual(
        [...found.entries()].sort(([a], [b]) => a.localeCompare(b)),
        [
          [bob, { conversationId: conversation, userId: bob, level: "quiet", mutedUntil: 1_700_000_000_000 }],
          [carol, { conversationId: conversation, userId: carol, level: "all", mutedUntil: Number.POSITIVE_INFINITY }],
        ].sort(([a], [b]) => String(a).localeCompare(String(b))),
      );
      assert.equal((await settings.forConversation(uid("conversation"))).size, 0);
    });

    c.test("the outbox lists a user's entries newest first, up to the limit", async ({ outbox }) => {
      const [u, other] = [uid("user"), uid("user")];
      const entry = (i: number, userId = u) => ({
        pushId: uid("push"),
        userId,
        deviceId: "d",
        provider: "apns" as const,
        notification: notification(BigInt(i), { quiet: i % 2 === 0 }),
        createdAt: Date.now() + i,
      });
      const added = [entry(1), entry(2), entry(3)];
      for (const e of added) await outbox.add(e);
      await outbox.add(entry(4, other));
      assert.deepEqual(await outbox.listForUser(u, 10), [...added].reverse());
      assert.deepEqual(await outbox.listForUser(u, 2), [added[2], added[1]]);
      assert.deepEqual(await outbox.listForUser(uid("user"), 10), []);
    });

    c.test("dead letters are listed newest first since a time, up to the limit", async ({ deadLetters }) => {
      const now = Date.now();
      const letter = (failedAt: number) => ({
        pushId: uid("push"),
        userId: uid("user"),
        deviceId: uid("device"),
        provider: "webpush" as const,
        notification: notification(7n),
        attempts: 5,
        lastError: "503 unavailable",
        failedAt,
      });
      const old = letter(now - 10 * 60_000);
      const recent = [letter(now - 2_000), letter(now - 1_000)];
      for (const l of [old, ...recent]) await deadLetters.add(l);
      const listed = (await deadLetters.list(now - 5_000, 100)).filter((l) =>
        [old, ...recent].some((x) => x.pushId === l.pushId),
      );
      assert.deepEqual(listed, [recent[1], recent[0]]);
      const withOld = (await deadLetters.list(now - 60 * 60_000, 100)).filter((l) =>
        [old, ...recent].some((x) => x.pushId === l.pushId),
      );
      assert.deepEqual(withOld, [recent[1], recent[0], old]);
      assert.equal((await deadLetters.list(now - 60 * 60_000, 1)).length, 1);
    });

    c.end();
  });
}

export interface ConnectedDevicesAdapters extends Cleanup {
  connected: ConnectedDevices;
  /** Opens a stream for the device, as its gateway records it; resolves to how to end it. */
  hold(userId: string, deviceId: string): Promise<() => Promise<void>>;
}

export function connectedDevicesContract(name: string, make: () => Promise<ConnectedDevicesAdapters>) {
  describe(`ConnectedDevices contract: ${name}`, () => {
    const c = contractCases(make);

    c.test("the devices of the users asked that hold a stream", async ({ connected, hold }) => {
      const [alice, bob, carol] = [uid("user"), uid("user"), uid("user")];
      await hold(alice, "a1");
      await hold(alice, "a2");
      await hold(bob, "b1");
      assert.deepEqual([...(await connected.connected([alice]))].sort(), ["a1", "a2"]);
      assert.deepEqual([...(await connected.connected([alice, bob, carol]))].sort(), ["a1", "a2", "b1"]);
      assert.deepEqual([...(await connected.connected([carol]))], []);
      assert.deepEqual([...(await connected.connected([]))], []);
    });

    c.test("a device whose stream ended is not connected; its sibling still is", async ({ connected, hold }) => {
      const alice = uid("user");
      const end = await hold(alice, "a1");
      await hold(alice, "a2");
      await end();
      assert.deepEqual([...(await connected.connected([alice]))], ["a2"]);
    });

    c.end();
  });
}

/** ConnectedDevices over a route registry: a stream is a registered route. */
export async function routeConnectedDevices(
  make: () => Promise<Cleanup & { routes: RouteRegistry }>,
): Promise<ConnectedDevicesAdapters> {
  const { routes, cleanup } = await make();
  return {
    connected: new RouteConnectedDevices(routes),
    hold: async (userId, deviceId) => {
      const route = { userId, deviceId, gatewayId: "gw", sessionId: uid("session") };
      await routes.register(route, 600_000);
      return () => routes.unregister(route);
    },
    cleanup,
  };
}
