// A messaging instance's copies of active devices (distributed mode): an active device is read
// once per max age, a sign-out heard on the bus drops its copy at once, and a sign-out the bus
// lost still shows once the copy is that old.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HeardRevocationsDevices } from "../services/identity/adapters/heard-revocations-devices.ts";
import { SqliteDeviceStore, SqliteUserStore } from "../services/identity/adapters/sqlite.ts";
import type { DeviceStore } from "../services/identity/ports.ts";
import { freshSqlite, uid } from "./contract/harness.ts";
import { countingStore } from "./helpers/counting-store.ts";

function setup(maxAgeMs = 10_000) {
  const { db, cleanup } = freshSqlite();
  let now = 1_000_000;
  const clock = { now: () => now };
  const store = countingStore(new SqliteDeviceStore(db), ["get"]);
  return {
    cleanup,
    advance: (ms: number) => {
      now += ms;
    },
    reads: () => store.calls.get,
    devices: new HeardRevocationsDevices(store.store, { clock, maxAgeMs }),
    // Identity's process, writing the same database.
    identity: new SqliteDeviceStore(db) as DeviceStore,
    users: new SqliteUserStore(db),
  };
}

async function signedIn(s: ReturnType<typeof setup>, name = "phone") {
  const userId = uid("user");
  await s.users.getOrCreate({ userId, phoneNumber: `+1555${userId}`, displayName: "A", createdAt: 1 });
  return { deviceId: uid("device"), userId, name, createdAt: 1, revokedAt: null };
}

async function created(s: ReturnType<typeof setup>) {
  const device = await signedIn(s);
  await s.identity.create(device);
  return device;
}

test("an active device is read once per max age", async (t) => {
  const s = setup();
  t.after(s.cleanup);
  const device = await created(s);
  assert.deepEqual(await s.devices.get(device.deviceId), device);
  s.advance(10_000);
  assert.deepEqual(await s.devices.get(device.deviceId), device, "a copy of exactly the max age is still used");
  assert.equal(s.reads(), 1);
  s.advance(1);
  await s.devices.get(device.deviceId);
  assert.equal(s.reads(), 2, "an older copy is read again");
});

test("a sign-out heard drops the copy at once; one the bus lost shows after the max age", async (t) => {
  const s = setup();
  t.after(s.cleanup);
  const [heard, lost] = [await created(s), await created(s)];
  await s.devices.get(heard.deviceId);
  await s.devices.get(lost.deviceId);
  await s.identity.revoke(heard.deviceId, 5);
  await s.identity.revoke(lost.deviceId, 5);

  s.devices.forget(heard.deviceId);
  assert.equal((await s.devices.get(heard.deviceId))?.revokedAt, 5);
  assert.equal((await s.devices.get(lost.deviceId))?.revokedAt, null, "not heard: the copy stands until its max age");
  s.advance(10_001);
  assert.equal((await s.devices.get(lost.deviceId))?.revokedAt, 5);
});

test("revoked and unknown devices are never kept", async (t) => {
  const s = setup();
  t.after(s.cleanup);
  const device = await created(s);
  await s.identity.revoke(device.deviceId, 5);
  await s.devices.get(device.deviceId);
  await s.devices.get(device.deviceId);
  assert.equal(s.reads(), 2);
  const later = await signedIn(s, "tablet");
  assert.equal(await s.devices.get(later.deviceId), undefined);
  await s.identity.create(later);
  assert.deepEqual(await s.devices.get(later.deviceId), later, "a device signed in after a miss is found at once");
});

test("a read that a sign-out overtakes is not kept", async (t) => {
  const s = setup();
  t.after(s.cleanup);
  const device = await created(s);
  // The read starts while the device is active; the sign-out is written and heard before it ends.
  const reading = s.devices.get(device.deviceId);
  await s.identity.revoke(device.deviceId, 5);
  s.devices.forget(device.deviceId);
  assert.equal((await reading)?.revokedAt, null, "the read itself saw the device active");
  assert.equal((await s.devices.get(device.deviceId))?.revokedAt, 5, "but its answer was not kept");
});

test("a max age of 0 reads the store every time", async (t) => {
  const s = setup(0);
  t.after(s.cleanup);
  const device = await created(s);
  await s.devices.get(device.deviceId);
  await s.devices.get(device.deviceId);
  assert.equal(s.reads(), 2);
});
