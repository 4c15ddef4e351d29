// The all-in-one gateway calls messaging's handlers in-process. A call that names its caller in
// its context values (a device session, authenticated when its stream opened) skips the token
// but not the checks that can change: a signed-out device or an expired token is refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { MessagingService } from "../gen/parley/v1/messaging_pb.js";
import { createAuthenticator } from "../services/identity/authenticator.ts";
import { createTokenIssuer } from "../services/identity/tokens.ts";
import { callerOf, contextValuesFor, onBehalfOf } from "../services/shared/auth.ts";
import { reasonOf } from "../services/shared/errors.ts";
import { createLocalClient } from "../services/shared/local-client.ts";
import { memoryDeviceStore } from "./helpers/device-store.ts";

async function setUp() {
  let now = 1_000_000;
  const clock = { now: () => now };
  const devices = memoryDeviceStore();
  await devices.create({ deviceId: "d1", userId: "u1", name: "phone", createdAt: now, revokedAt: null });
  const tokens = createTokenIssuer({ secret: new Uint8Array(32).fill(7), clock, accessTtlMs: 60_000 });
  const authenticator = createAuthenticator({ tokens, devices, clock });
  const seen: string[] = [];
  const impl = {
    markRead: async (_request: unknown, ctx: HandlerContext) => {
      const caller = callerOf(ctx);
      seen.push(`${caller.userId}/${caller.deviceId}`);
      return {};
    },
  } as unknown as ServiceImpl<typeof MessagingService>;
  const client = createLocalClient(MessagingService, impl, authenticator);
  const { token } = await tokens.issueAccess("u1", "d1");
  const caller = await authenticator.authenticate(token);
  return { client, caller, devices, seen, advance: (ms: number) => (now += ms) };
}

async function refusedWith(call: Promise<unknown>, reason: string) {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.Unauthenticated);
    assert.equal(reasonOf(error), reason);
    return true;
  });
}

test("a caller in the context values is served without its token, and refused once its device is signed out", async () => {
  const { client, caller, devices, seen } = await setUp();
  await client.markRead({ conversationId: "c", throughSequence: 1n }, { contextValues: contextValuesFor(caller) });
  assert.deepEqual(seen, ["u1/d1"]);
  await devices.revoke("d1", 5);
  await refusedWith(client.markRead({ conversationId: "c" }, { contextValues: contextValuesFor(caller) }), "DEVICE_REVOKED");
  await refusedWith(client.markRead({ conversationId: "c" }, { headers: onBehalfOf(caller) }), "DEVICE_REVOKED");
  assert.deepEqual(seen, ["u1/d1"], "nothing served after the sign-out");
});

test("a caller in the context values is refused once its token has expired", async () => {
  const { client, caller, seen, advance } = await setUp();
  advance(60_000);
  await refusedWith(client.markRead({ conversationId: "c" }, { contextValues: contextValuesFor(caller) }), "TOKEN_EXPIRED");
  assert.deepEqual(seen, []);
});

test("without a caller in the context values the bearer token is checked", async () => {
  const { client, caller, seen } = await setUp();
  await client.markRead({ conversationId: "c" }, { headers: onBehalfOf(caller) });
  await refusedWith(client.markRead({ conversationId: "c" }, { headers: { authorization: "Bearer nonsense" } }), "TOKEN_INVALID");
  await refusedWith(client.markRead({ conversationId: "c" }), "TOKEN_MISSING");
  assert.deepEqual(seen, ["u1/d1"]);
});
