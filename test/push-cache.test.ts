// The push dispatcher's copies of push devices and notification settings when other processes
// write the same stores (several push processes in distributed mode): a copy is used until it is
// `maxAgeMs` old, then read again; writes through the cache itself show at once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CachedConversationSettingStore, CachedPushDeviceStore } from "../services/push/adapters/cached.ts";
import { SqliteConversationSettingStore, SqlitePushDeviceStore } from "../services/push/adapters/sqlite.ts";
import { freshSqlite, uid } from "./contract/harness.ts";
import { countingStore } from "./helpers/counting-store.ts";

const fcm = (token: string) => ({ provider: "fcm" as const, token });

function setup() {
  const { db, cleanup } = freshSqlite();
  let now = 1_000_000;
  const clock = { now: () => now };
  const devices = countingStore(new SqlitePushDeviceStore(db), ["devicesOf"]);
  const settings = countingStore(new SqliteConversationSettingStore(db), ["forConversation"]);
  return {
    cleanup,
    advance: (ms: number) => {
      now += ms;
    },
    devices,
    settings,
    // This process's caches; `other*` write the same database, as another push process would.
    cachedDevices: new CachedPushDeviceStore(devices.store, { maxAgeMs: 10_000, clock }),
    cachedSettings: new CachedConversationSettingStore(settings.store, { maxAgeMs: 10_000, clock }),
    otherDevices: new SqlitePushDeviceStore(db),
    otherSettings: new SqliteConversationSettingStore(db),
  };
}

test("a user's push devices are read once per max age; another process's token shows once the copy is that old", async (t) => {
  const s = setup();
  t.after(s.cleanup);
  const [user, device] = [uid("user"), uid("device")];
  assert.deepEqual(await s.cachedDevices.devicesOf([user]), []);
  await s.otherDevices.register(user, device, fcm("t1"), 5);

  s.advance(10_000);
  assert.deepEqual(await s.cachedDevices.devicesOf([user]), [], "a copy of exactly the max age is still used");
  assert.equal(s.devices.calls.devicesOf, 1);

  s.advance(1);
  const [found] = await s.cachedDevices.devicesOf([user]);
  assert.deepEqual(found?.token, fcm("t1"));
  assert.equal(s.devices.calls.devicesOf, 2);
  await s.cachedDevices.devicesOf([user]);
  assert.equal(s.devices.calls.devicesOf, 2, "the fresh copy is used again");
});

test("a write through the cache shows at once, whatever the max age", async (t) => {
  const s = setup();
  t.after(s.cleanup);
  const [user, device] = [uid("user"), uid("device")];
  assert.deepEqual(await s.cachedDevices.devicesOf([user]), []);
  await s.cachedDevices.register(user, device, fcm("t1"), 5);
  assert.deepEqual((await s.cachedDevices.devicesOf([user]))[0]?.token, fcm("t1"));
  await s.cachedDevices.unregister(user, device);
  assert.deepEqual((await s.cachedDevices.devicesOf([user]))[0]?.token ?? null, null);
});

test("a conversation's settings are read once per max age; another process's mute shows once the copy is that old", async (t) => {
  const s = setup();
  t.after(s.cleanup);
  const [conversationId, userId] = [uid("conversation"), uid("user")];
  assert.equal((await s.cachedSettings.forConversation(conversationId)).size, 0);
  await s.otherSettings.set({ conversationId, userId, level: "none", mutedUntil: null });

  s.advance(9_999);
  assert.equal((await s.cachedSettings.forConversation(conversationId)).size, 0);
  assert.equal(s.settings.calls.forConversation, 1);

  s.advance(2);
  assert.equal((await s.cachedSettings.forConversation(conversationId)).get(userId)?.level, "none");
  assert.equal(s.settings.calls.forConversation, 2);
});

test("without a max age a copy is kept until a write through the cache (the all-in-one server)", async (t) => {
  const s = setup();
  t.after(s.cleanup);
  const kept = new CachedPushDeviceStore(s.devices.store);
  const user = uid("user");
  await kept.devicesOf([user]);
  await kept.devicesOf([user]);
  assert.equal(s.devices.calls.devicesOf, 1);
});
