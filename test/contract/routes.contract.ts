// Contract suite of the RouteRegistry port (services/gateway/ports.ts): which gateway holds which
// device stream. Expiry is driven by `wait`, which advances a fake clock (memory) or lets real
// time pass (Redis expires keys itself); presence checks use long lifetimes, so nothing here
// depends on how fast the machine is.
import assert from "node:assert/strict";
import { describe } from "node:test";
import type { Route, RouteRegistry } from "../../services/gateway/ports.ts";
import { type Cleanup, type ContractOptions, contractCases } from "./harness.ts";

export interface RouteAdapters extends Cleanup {
  routes: RouteRegistry;
  /** Lets `ms` pass for the registry's expiry. */
  wait(ms: number): Promise<void>;
}

/** Long enough never to expire during a case. */
const long = 600_000;
/** Short lifetimes expire after `wait(expired)`. */
const short = 300;
const expired = 700;

const route = (userId: string, deviceId: string, sessionId = `${deviceId}-s1`, gatewayId = "gw-1"): Route => ({
  userId,
  deviceId,
  sessionId,
  gatewayId,
});

/** Routes in a stable order, for comparison. */
const sorted = (routes: Route[]) =>
  [...routes].sort((a, b) => `${a.userId}/${a.deviceId}`.localeCompare(`${b.userId}/${b.deviceId}`));

export function routeRegistryContract(name: string, make: () => Promise<RouteAdapters>, options?: ContractOptions) {
  describe(`RouteRegistry contract: ${name}`, () => {
    const c = contractCases(make, options);

    c.test("a registered route is found by its user, not by others", async ({ routes }) => {
      await routes.register(route("alice", "a1"), long);
      assert.deepEqual(await routes.lookup(["alice"]), [route("alice", "a1")]);
      assert.deepEqual(await routes.lookup(["bob"]), []);
      assert.deepEqual(await routes.lookup([]), []);
    });

    c.test("lookup returns every device of every user asked, each once", async ({ routes }) => {
      const all = [route("alice", "a1"), route("alice", "a2", "x", "gw-2"), route("bob", "b1"), route("carol", "c1")];
      for (const r of all) await routes.register(r, long);
      const found = await routes.lookup(["alice", "bob", "alice", "dave"]);
      assert.deepEqual(sorted(found), sorted(all.filter((r) => r.userId !== "carol")));
    });

    c.test("the latest register of a device wins", async ({ routes }) => {
      await routes.register(route("alice", "a1", "s1", "gw-1"), long);
      await routes.register(route("alice", "a1", "s2", "gw-2"), long);
      assert.deepEqual(await routes.lookup(["alice"]), [route("alice", "a1", "s2", "gw-2")]);
    });

    c.test("unregister removes the route only while it names that session", async ({ routes }) => {
      await routes.register(route("alice", "a1", "s1", "gw-1"), long);
      await routes.register(route("alice", "a1", "s2", "gw-2"), long);
      // The replaced stream leaves after the new one registered: the new route stays.
      await routes.unregister(route("alice", "a1", "s1", "gw-1"));
      assert.deepEqual(await routes.lookup(["alice"]), [route("alice", "a1", "s2", "gw-2")]);
      await routes.unregister(route("alice", "a1", "s2", "gw-2"));
      assert.deepEqual(await routes.lookup(["alice"]), []);
      // Unregistering what is not there is a no-op.
      await routes.unregister(route("alice", "a1", "s2", "gw-2"));
      await routes.unregister(route("nobody", "n1"));
      assert.deepEqual(await routes.lookup(["alice", "nobody"]), []);
    });

    c.test("a route expires after its lifetime; the user's other routes stay", async ({ routes, wait }) => {
      await routes.register(route("alice", "a1"), short);
      await routes.register(route("alice", "a2"), long);
      await wait(expired);
      assert.deepEqual(await routes.lookup(["alice"]), [route("alice", "a2")]);
      // Asking again (after any cleanup the first lookup did) gives the same answer.
      assert.deepEqual(await routes.lookup(["alice"]), [route("alice", "a2")]);
    });

    c.test("refresh extends a route's lifetime", async ({ routes, wait }) => {
      await routes.register(route("alice", "a1"), short);
      await routes.refresh([route("alice", "a1")], long);
      await wait(expired);
      assert.deepEqual(await routes.lookup(["alice"]), [route("alice", "a1")]);
    });

    c.test("refresh re-creates a missing or expired route (a registry that lost its data)", async ({ routes, wait }) => {
      await routes.register(route("bob", "b1"), long);
      const recreated = await routes.refresh([route("alice", "a1"), route("bob", "b1")], long);
      assert.deepEqual(recreated, [route("alice", "a1")], "refresh reports the route it had to re-create, not the live one");
      assert.deepEqual(sorted(await routes.lookup(["alice", "bob"])), [route("alice", "a1"), route("bob", "b1")]);
      await routes.register(route("carol", "c1"), short);
      await wait(expired);
      assert.deepEqual(await routes.lookup(["carol"]), []);
      assert.deepEqual(await routes.refresh([route("carol", "c1")], long), [route("carol", "c1")]);
      assert.deepEqual(await routes.lookup(["carol"]), [route("carol", "c1")]);
      assert.deepEqual(await routes.refresh([route("carol", "c1")], long), [], "a live route is only extended");
    });

    c.test("refresh leaves a route that a newer session holds", async ({ routes }) => {
      await routes.register(route("alice", "a1", "s2", "gw-2"), long);
      await routes.refresh([route("alice", "a1", "s1", "gw-1")], long);
      assert.deepEqual(await routes.lookup(["alice"]), [route("alice", "a1", "s2", "gw-2")]);
    });

    c.test("a gateway's refresh of many routes and a lookup of many users", async ({ routes }) => {
      const many: Route[] = [];
      for (let u = 0; u < 400; u++) for (let d = 0; d < 3; d++) many.push(route(`user-${u}`, `dev-${u}-${d}`));
      await routes.refresh(many, long);
      const users = Array.from({ length: 400 }, (_, u) => `user-${u}`);
      assert.deepEqual(sorted(await routes.lookup(users)), sorted(many));
    });

    c.end();
  });
}
