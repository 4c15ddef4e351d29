// Contract suites of the identity ports (services/identity/ports.ts): UserStore, LoginCodeStore,
// DeviceStore and RefreshTokenStore. Each suite takes a named factory of fresh adapters, so every
// adapter of a port (SQLite today; Cassandra/Redis later) runs the same cases.
import assert from "node:assert/strict";
import { describe } from "node:test";
import type {
  DeviceRecord,
  DeviceStore,
  LoginCodeRecord,
  LoginCodeStore,
  RefreshTokenStore,
  UserRecord,
  UserStore,
} from "../../services/identity/ports.ts";
import { type Cleanup, type ContractOptions, contractCases, uid } from "./harness.ts";

let phoneCounter = 0;
const newPhone = () => `+1555${String(process.pid % 1000).padStart(3, "0")}${String(++phoneCounter).padStart(5, "0")}`;

const userRecord = (overrides: Partial<UserRecord> = {}): UserRecord => ({
  userId: uid("user"),
  phoneNumber: newPhone(),
  displayName: "Someone",
  createdAt: 1_700_000_000_000,
  ...overrides,
});

const byId = <T extends { userId: string }>(rows: T[]) => [...rows].sort((a, b) => (a.userId < b.userId ? -1 : 1));

export function userStoreContract(
  name: string,
  makeAdapters: () => Promise<{ users: UserStore } & Cleanup>,
  options: ContractOptions = {},
) {
  describe(`UserStore contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    c.test("getOrCreate creates a user for a new phone number", async ({ users }) => {
      const candidate = userRecord({ displayName: "Alice" });
      const result = await users.getOrCreate(candidate);
      assert.equal(result.created, true);
      assert.deepEqual(result.user, candidate);
      assert.deepEqual(await users.findByIds([candidate.userId]), [candidate]);
    });

    c.test("getOrCreate returns the existing user for a known phone number and writes nothing", async ({ users }) => {
      const original = userRecord({ displayName: "First" });
      await users.getOrCreate(original);
      const again = await users.getOrCreate(userRecord({ phoneNumber: original.phoneNumber, displayName: "Second" }));
      assert.equal(again.created, false);
      assert.deepEqual(again.user, original);
      assert.deepEqual(await users.findByPhones([original.phoneNumber]), [original]);
    });

    c.test("concurrent getOrCreate for one phone number creates exactly one user", async ({ users }) => {
      const phoneNumber = newPhone();
      const results = await Promise.all(Array.from({ length: 20 }, () => users.getOrCreate(userRecord({ phoneNumber }))));
      assert.equal(results.filter((r) => r.created).length, 1);
      const winner = results.find((r) => r.created)?.user;
      for (const r of results) assert.deepEqual(r.user, winner);
      assert.equal((await users.findByPhones([phoneNumber])).length, 1);
    });

    c.test("findByPhones and findByIds return the known users and skip unknown ones", async ({ users }) => {
      const a = userRecord();
      const b = userRecord();
      await users.getOrCreate(a);
      await users.getOrCreate(b);
      assert.deepEqual(byId(await users.findByPhones([b.phoneNumber, newPhone(), a.phoneNumber])), byId([a, b]));
      assert.deepEqual(byId(await users.findByIds(["no-such-user", a.userId, b.userId])), byId([a, b]));
      assert.deepEqual(await users.findByPhones([]), []);
      assert.deepEqual(await users.findByIds([]), []);
      assert.deepEqual(await users.findByIds(["no-such-user"]), []);
    });

    c.end();
  });
}

const codeRecord = (overrides: Partial<LoginCodeRecord> = {}): LoginCodeRecord => ({
  phoneNumber: newPhone(),
  codeHash: "hash-1",
  expiresAt: 1_700_000_300_000,
  attempts: 0,
  windowStart: 1_700_000_000_000,
  sentInWindow: 1,
  ...overrides,
});

export function loginCodeStoreContract(
  name: string,
  makeAdapters: () => Promise<{ codes: LoginCodeStore } & Cleanup>,
  options: ContractOptions = {},
) {
  describe(`LoginCodeStore contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    c.test("get returns undefined for a number without a code", async ({ codes }) => {
      assert.equal(await codes.get(newPhone()), undefined);
    });

    c.test("put then get round-trips the record", async ({ codes }) => {
      const record = codeRecord({ attempts: 2, sentInWindow: 3 });
      await codes.put(record);
      assert.deepEqual(await codes.get(record.phoneNumber), record);
    });

    c.test("put replaces the pending code, its attempts and its window", async ({ codes }) => {
      const first = codeRecord();
      await codes.put(first);
      await codes.countFailedAttempt(first.phoneNumber);
      const second = { ...first, codeHash: "hash-2", expiresAt: first.expiresAt + 1, attempts: 0, sentInWindow: 2 };
      await codes.put(second);
      assert.deepEqual(await codes.get(first.phoneNumber), second);
    });

    c.test("countFailedAttempt counts one attempt per call and returns the new count", async ({ codes }) => {
      const record = codeRecord();
      await codes.put(record);
      assert.equal(await codes.countFailedAttempt(record.phoneNumber), 1);
      assert.equal(await codes.countFailedAttempt(record.phoneNumber), 2);
      assert.equal(await codes.countFailedAttempt(record.phoneNumber), 3);
      assert.equal((await codes.get(record.phoneNumber))?.attempts, 3);
    });

    c.test("concurrent countFailedAttempt calls are each counted once (atomic increments)", async ({ codes }) => {
      const record = codeRecord();
      await codes.put(record);
      const counts = await Promise.all(Array.from({ length: 25 }, () => codes.countFailedAttempt(record.phoneNumber)));
      assert.deepEqual(
        [...counts].sort((a, b) => a - b),
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
      assert.equal((await codes.get(record.phoneNumber))?.attempts, 25);
    });

    c.test("attempts are counted per phone number", async ({ codes }) => {
      const a = codeRecord();
      const b = codeRecord();
      await codes.put(a);
      await codes.put(b);
      await codes.countFailedAttempt(a.phoneNumber);
      await codes.countFailedAttempt(a.phoneNumber);
      assert.equal((await codes.get(a.phoneNumber))?.attempts, 2);
      assert.equal((await codes.get(b.phoneNumber))?.attempts, 0);
    });

    // sign-in.ts treats codeHash "" as "no pending code" and reads the send-rate window from the
    // same record, so consuming must keep the window (or requesting a new code would reset it).
    c.test("consume makes the code unusable and keeps the send-rate window", async ({ codes }) => {
      const record = codeRecord({ sentInWindow: 4 });
      await codes.put(record);
      await codes.consume(record.phoneNumber);
      const after = await codes.get(record.phoneNumber);
      assert.ok(after, "the record (and its send-rate window) survives consume");
      assert.equal(after.codeHash, "");
      assert.equal(after.windowStart, record.windowStart);
      assert.equal(after.sentInWindow, record.sentInWindow);
    });

    c.test("consume of a number without a code does nothing", async ({ codes }) => {
      const phone = newPhone();
      await codes.consume(phone);
      assert.equal(await codes.get(phone), undefined);
    });

    c.end();
  });
}

const deviceRecord = (userId: string, overrides: Partial<DeviceRecord> = {}): DeviceRecord => ({
  deviceId: uid("device"),
  userId,
  name: "phone",
  createdAt: 1_700_000_000_000,
  revokedAt: null,
  ...overrides,
});

/** Devices belong to users; the suites create the owner through the same adapter set. */
async function newUser(users: UserStore): Promise<string> {
  return (await users.getOrCreate(userRecord())).user.userId;
}

const byDeviceId = (rows: DeviceRecord[]) => [...rows].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));

export function deviceStoreContract(
  name: string,
  makeAdapters: () => Promise<{ devices: DeviceStore; users: UserStore } & Cleanup>,
  options: ContractOptions = {},
) {
  describe(`DeviceStore contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    c.test("create then get round-trips the device; unknown devices are undefined", async ({ devices, users }) => {
      const device = deviceRecord(await newUser(users), { name: "Alice's phone" });
      await devices.create(device);
      assert.deepEqual(await devices.get(device.deviceId), device);
      assert.equal(await devices.get(uid("no-such-device")), undefined);
    });

    c.test("listActive lists the user's unrevoked devices only", async ({ devices, users }) => {
      const alice = await newUser(users);
      const bob = await newUser(users);
      const a1 = deviceRecord(alice, { createdAt: 1 });
      const a2 = deviceRecord(alice, { createdAt: 2 });
      const a3 = deviceRecord(alice, { createdAt: 3 });
      const b1 = deviceRecord(bob);
      for (const d of [a1, a2, a3, b1]) await devices.create(d);
      await devices.revoke(a2.deviceId, 10);
      assert.deepEqual(byDeviceId(await devices.listActive(alice)), byDeviceId([a1, a3]));
      assert.deepEqual(await devices.listActive(bob), [b1]);
      assert.deepEqual(await devices.listActive(uid("no-such-user")), []);
    });

    c.test("revoke marks the device revoked at the given time", async ({ devices, users }) => {
      const device = deviceRecord(await newUser(users));
      await devices.create(device);
      await devices.revoke(device.deviceId, 1_700_000_000_500);
      assert.deepEqual(await devices.get(device.deviceId), { ...device, revokedAt: 1_700_000_000_500 });
    });

    c.test("a device read before its revocation reads as revoked right after it", async ({ devices, users }) => {
      const device = deviceRecord(await newUser(users));
      await devices.create(device);
      assert.equal((await devices.get(device.deviceId))?.revokedAt, null);
      await devices.revoke(device.deviceId, 1_700_000_000_700);
      assert.equal((await devices.get(device.deviceId))?.revokedAt, 1_700_000_000_700);
    });

    c.test("revoke is idempotent: a second revoke keeps the first revocation", async ({ devices, users }) => {
      const device = deviceRecord(await newUser(users));
      await devices.create(device);
      await devices.revoke(device.deviceId, 100);
      await devices.revoke(device.deviceId, 200);
      await Promise.all([devices.revoke(device.deviceId, 300), devices.revoke(device.deviceId, 400)]);
      assert.equal((await devices.get(device.deviceId))?.revokedAt, 100);
      assert.deepEqual(await devices.listActive(device.userId), []);
    });

    c.test("revoking one device leaves the user's other devices alone", async ({ devices, users }) => {
      const alice = await newUser(users);
      const keep = deviceRecord(alice);
      const drop = deviceRecord(alice);
      await devices.create(keep);
      await devices.create(drop);
      await devices.revoke(drop.deviceId, 5);
      assert.deepEqual(await devices.get(keep.deviceId), keep);
    });

    c.end();
  });
}

export function refreshTokenStoreContract(
  name: string,
  makeAdapters: () => Promise<{ refreshTokens: RefreshTokenStore; devices: DeviceStore; users: UserStore } & Cleanup>,
  options: ContractOptions = {},
) {
  describe(`RefreshTokenStore contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    const newDevice = async (devices: DeviceStore, users: UserStore) => {
      const device = deviceRecord(await newUser(users));
      await devices.create(device);
      return device.deviceId;
    };

    c.test("spend of an issued token returns its device and alreadySpent=false", async ({ refreshTokens, devices, users }) => {
      const deviceId = await newDevice(devices, users);
      const token = uid("token-hash");
      await refreshTokens.issue(token, deviceId, 1000);
      assert.deepEqual(await refreshTokens.spend(token, 2000), { deviceId, alreadySpent: false });
    });

    c.test("a second spend of the same token reports alreadySpent=true (reuse)", async ({ refreshTokens, devices, users }) => {
      const deviceId = await newDevice(devices, users);
      const token = uid("token-hash");
      await refreshTokens.issue(token, deviceId, 1000);
      await refreshTokens.spend(token, 2000);
      assert.deepEqual(await refreshTokens.spend(token, 3000), { deviceId, alreadySpent: true });
      assert.deepEqual(await refreshTokens.spend(token, 4000), { deviceId, alreadySpent: true });
    });

    c.test("spend of a token never issued returns undefined", async ({ refreshTokens, devices, users }) => {
      const neverIssued = uid("never-issued");
      assert.equal(await refreshTokens.spend(neverIssued, 1000), undefined);
      const deviceId = await newDevice(devices, users);
      await refreshTokens.issue(uid("issued"), deviceId, 1000);
      assert.equal(await refreshTokens.spend(neverIssued, 2000), undefined);
    });

    c.test("concurrent spends of one token: exactly one is the first spend", async ({ refreshTokens, devices, users }) => {
      const deviceId = await newDevice(devices, users);
      const token = uid("contested");
      await refreshTokens.issue(token, deviceId, 1000);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => refreshTokens.spend(token, 2000 + i)));
      assert.equal(results.filter((r) => r?.alreadySpent === false).length, 1);
      assert.ok(results.every((r) => r?.deviceId === deviceId));
    });

    c.test("tokens are spent independently of each other", async ({ refreshTokens, devices, users }) => {
      const d1 = await newDevice(devices, users);
      const d2 = await newDevice(devices, users);
      const [t1, t2, t3] = [uid("token"), uid("token"), uid("token")];
      await refreshTokens.issue(t1, d1, 1000);
      await refreshTokens.issue(t2, d1, 1001);
      await refreshTokens.issue(t3, d2, 1002);
      await refreshTokens.spend(t1, 2000);
      assert.deepEqual(await refreshTokens.spend(t2, 2001), { deviceId: d1, alreadySpent: false });
      assert.deepEqual(await refreshTokens.spend(t3, 2002), { deviceId: d2, alreadySpent: false });
    });

    c.end();
  });
}
