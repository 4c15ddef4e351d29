// Contract suites of the presence ports (services/presence/ports.ts): the PresenceStore (device
// streams, last seen, expiry), the SignalBus (broadcast between gateways) and the
// PresenceSettingsStore. Time is passed to the store explicitly, so expiry needs no waiting.
import assert from "node:assert/strict";
import { describe } from "node:test";
import type { PresenceSettingsStore, PresenceStore, Signal, SignalBus, StreamKey } from "../../services/presence/ports.ts";
import { type Cleanup, type ContractOptions, contractCases, uid } from "./harness.ts";

export interface PresenceStoreAdapters extends Cleanup {
  store: PresenceStore;
}

export interface SignalBusAdapters extends Cleanup {
  /** Two buses on separate connections, as two gateways hold them. */
  buses: [SignalBus, SignalBus];
}

export interface PresenceSettingsAdapters extends Cleanup {
  settings: PresenceSettingsStore;
  /** Users must exist where the store checks references. */
  seedUsers(userIds: string[]): Promise<void>;
}

const stream = (userId: string, deviceId: string, sessionId = `${deviceId}-s1`): StreamKey => ({ userId, deviceId, sessionId });
const ttl = 1_000;

export function presenceStoreContract(name: string, make: () => Promise<PresenceStoreAdapters>, options?: ContractOptions) {
  describe(`PresenceStore contract: ${name}`, () => {
    const c = contractCases(make, options);
    const t0 = Date.now();

    c.test("the first stream brings a user online; the last one takes them offline with last seen", async ({ store }) => {
      const alice = uid("alice");
      const online = await store.connect(stream(alice, "a1"), ttl, t0);
      assert.deepEqual(online, { userId: alice, online: true, lastSeenAt: null, version: 1 });
      assert.equal(await store.connect(stream(alice, "a2"), ttl, t0 + 1), undefined);
      assert.equal((await store.get([alice], t0 + 2)).get(alice)?.online, true);
      assert.equal(await store.disconnect(stream(alice, "a1"), t0 + 3), undefined, "a2 still holds a stream");
      const offline = await store.disconnect(stream(alice, "a2"), t0 + 4);
      assert.deepEqual(offline, { userId: alice, online: false, lastSeenAt: t0 + 4, version: 2 });
      assert.deepEqual((await store.get([alice], t0 + 5)).get(alice), { online: false, lastSeenAt: t0 + 4, version: 2 });
      const back = await store.connect(stream(alice, "a1", "a1-s2"), ttl, t0 + 6);
      assert.deepEqual(back, { userId: alice, online: true, lastSeenAt: t0 + 4, version: 3 });
    });

    c.test("a newer session of a device replaces the older one, whose disconnect is then ignored", async ({ store }) => {
      const alice = uid("alice");
      await store.connect(stream(alice, "a1", "s1"), ttl, t0);
      assert.equal(await store.connect(stream(alice, "a1", "s2"), ttl, t0 + 1), undefined);
      assert.equal(await store.disconnect(stream(alice, "a1", "s1"), t0 + 2), undefined);
      assert.equal((await store.get([alice], t0 + 3)).get(alice)?.online, true);
      assert.equal((await store.disconnect(stream(alice, "a1", "s2"), t0 + 4))?.online, false);
      assert.equal(await store.disconnect(stream(alice, "a1", "s2"), t0 + 5), undefined, "a second disconnect is a no-op");
    });

    c.test("a stream expires unless refreshed; the sweep reports the user once, last seen at the expiry", async ({ store }) => {
      const alice = uid("alice");
      const bob = uid("bob");
      await store.connect(stream(alice, "a1"), ttl, t0);
      await store.connect(stream(bob, "b1"), ttl, t0);
      assert.deepEqual(await store.refresh([stream(alice, "a1")], ttl, t0 + 800), []);
      assert.deepEqual(
        (await store.expire(t0 + 1_500)).map((t) => t.userId),
        [bob],
      );
      assert.equal((await store.get([alice], t0 + 1_500)).get(alice)?.online, true, "refreshed until t0 + 1800");
      const swept = await store.expire(t0 + 2_000);
      assert.deepEqual(swept, [{ userId: alice, online: false, lastSeenAt: t0 + 1_800, version: 2 }]);
      assert.deepEqual(await store.expire(t0 + 2_500), []);
      assert.deepEqual((await store.get([alice, bob], t0 + 2_500)).get(bob), {
        online: false,
        lastSeenAt: t0 + 1_000,
        version: 2,
      });
    });

    c.test("a sweep drops a user's expired stream and keeps them online on the live one", async ({ store }) => {
      const alice = uid("alice");
      await store.connect(stream(alice, "a1"), ttl, t0);
      await store.connect(stream(alice, "a2"), ttl, t0);
      await store.refresh([stream(alice, "a2")], ttl, t0 + 800);
      assert.deepEqual(await store.expire(t0 + 1_500), [], "a2 is live until t0 + 1800");
      assert.deepEqual((await store.get([alice], t0 + 1_500)).get(alice), { online: true, lastSeenAt: null, version: 1 });
      const offline = await store.disconnect(stream(alice, "a2"), t0 + 1_600);
      assert.deepEqual(offline, { userId: alice, online: false, lastSeenAt: t0 + 1_600, version: 2 });
    });

    c.test("an expired stream keeps nobody online, even before a sweep; connecting again is a transition", async ({ store }) => {
      const alice = uid("alice");
      await store.connect(stream(alice, "a1"), ttl, t0);
      assert.equal((await store.get([alice], t0 + 2_000)).get(alice)?.online, false);
      assert.equal((await store.connect(stream(alice, "a2"), ttl, t0 + 2_000))?.online, true);
    });

    c.test("refresh re-creates a lost stream (reporting the user online) but leaves a newer session", async ({ store }) => {
      const alice = uid("alice");
      const back = await store.refresh([stream(alice, "a1", "s1")], ttl, t0);
      assert.deepEqual(
        back.map((t) => [t.userId, t.online]),
        [[alice, true]],
      );
      await store.connect(stream(alice, "a1", "s2"), ttl, t0 + 1);
      assert.deepEqual(await store.refresh([stream(alice, "a1", "s1")], ttl, t0 + 2), []);
      assert.equal((await store.disconnect(stream(alice, "a1", "s2"), t0 + 3))?.online, false, "s1 was not put back");
    });

    c.test("unknown users are offline and never seen", async ({ store }) => {
      const nobody = uid("nobody");
      assert.deepEqual((await store.get([nobody], t0)).get(nobody), { online: false, lastSeenAt: null, version: 0 });
      assert.equal((await store.get([], t0)).size, 0);
    });

    c.test("concurrent streams of one user give exactly one transition each way", async ({ store }) => {
      const alice = uid("alice");
      const devices = Array.from({ length: 12 }, (_, i) => stream(alice, `a${i}`));
      const up = await Promise.all(devices.map((d) => store.connect(d, ttl, t0)));
      assert.equal(up.filter((t) => t !== undefined).length, 1);
      const down = await Promise.all(devices.map((d) => store.disconnect(d, t0 + 10)));
      assert.equal(down.filter((t) => t !== undefined).length, 1);
      assert.equal((await store.get([alice], t0 + 11)).get(alice)?.version, 2);
    });

    c.test("two sweeps at once report each user once", async ({ store }) => {
      const users = Array.from({ length: 20 }, () => uid("user"));
      for (const user of users) await store.connect(stream(user, "d"), ttl, t0);
      const [a, b] = await Promise.all([store.expire(t0 + 5_000), store.expire(t0 + 5_000)]);
      const reported = [...(a ?? []), ...(b ?? [])].map((t) => t.userId).sort();
      assert.deepEqual(reported, [...users].sort());
    });

    c.end();
  });
}

/** Waits until check() holds (signals arrive asynchronously); the case's hang guard bounds it. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

const typing = (n: number): Signal => ({
  kind: "typing",
  recipients: ["bob"],
  conversationId: "c",
  userId: "alice",
  typing: true,
  expiresInMs: n,
});

export function signalBusContract(name: string, make: () => Promise<SignalBusAdapters>, options?: ContractOptions) {
  describe(`SignalBus contract: ${name}`, () => {
    const c = contractCases(make, options);

    c.test("every subscriber hears every signal of every publisher, each publisher's in order", async ({ buses }) => {
      const [one, two] = buses;
      const heard: [Signal[], Signal[]] = [[], []];
      const stops = [await one.subscribe((s) => heard[0].push(s)), await two.subscribe((s) => heard[1].push(s))];
      for (let i = 0; i < 50; i++) await (i % 2 === 0 ? one : two).publish(typing(i));
      const presence: Signal = {
        kind: "presence",
        recipients: ["bob"],
        userId: "alice",
        state: "offline",
        lastSeenAt: 5,
        version: 3,
      };
      await one.publish(presence);
      await until(() => heard[0].length === 51 && heard[1].length === 51);
      for (const list of heard) {
        const fromOne = list.filter((s) => s.kind === "typing" && s.expiresInMs % 2 === 0);
        const fromTwo = list.filter((s) => s.kind === "typing" && s.expiresInMs % 2 === 1);
        assert.deepEqual(
          fromOne.map((s) => (s.kind === "typing" ? s.expiresInMs : -1)),
          Array.from({ length: 25 }, (_, i) => 2 * i),
        );
        assert.deepEqual(
          fromTwo.map((s) => (s.kind === "typing" ? s.expiresInMs : -1)),
          Array.from({ length: 25 }, (_, i) => 2 * i + 1),
        );
        assert.deepEqual(list.at(-1), presence, "signals arrive whole");
      }
      for (const stop of stops) await stop();
    });

    c.test("after unsubscribing, a subscriber hears nothing more", async ({ buses }) => {
      const [one, two] = buses;
      const heard: Signal[] = [];
      const control: Signal[] = [];
      const stop = await one.subscribe((s) => heard.push(s));
      const stopControl = await two.subscribe((s) => control.push(s));
      await two.publish(typing(1));
      await until(() => heard.length === 1 && control.length === 1);
      await stop();
      await two.publish(typing(2));
      await until(() => control.length === 2);
      assert.equal(heard.length, 1);
      await stopControl();
    });

    c.end();
  });
}

export function presenceSettingsContract(name: string, make: () => Promise<PresenceSettingsAdapters>, options?: ContractOptions) {
  describe(`PresenceSettingsStore contract: ${name}`, () => {
    const c = contractCases(make, options);

    c.test("a user without a setting has the default; a stored one is read back; the latest wins", async (a) => {
      const [alice, bob, carol] = [uid("alice"), uid("bob"), uid("carol")];
      await a.seedUsers([alice, bob, carol]);
      await a.settings.setVisibility(alice, "nobody", 1);
      await a.settings.setVisibility(bob, "everyone", 1);
      await a.settings.setVisibility(bob, "nobody", 2);
      await a.settings.setVisibility(bob, "everyone", 3);
      const found = await a.settings.visibility([alice, bob, carol]);
      assert.deepEqual(Object.fromEntries(found), { [alice]: "nobody", [bob]: "everyone", [carol]: "contacts" });
      assert.equal((await a.settings.visibility([])).size, 0);
    });

    c.end();
  });
}
