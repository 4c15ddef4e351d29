// A gateway's sends and receipts reach messaging on one long-lived Relay stream. Each request is
// authenticated by its own device's token as a call's bearer header is, errors come back as the
// call's would (reason included), the stream needs the internal key, an instance without the
// relay gets calls, and a draining instance answers what is running before its stream ends.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MessagingRelayService } from "../gen/parley/internal/v1/messaging_relay_pb.js";
import { ErrorDetailSchema } from "../gen/parley/v1/errors_pb.js";
import { MessagingService } from "../gen/parley/v1/messaging_pb.js";
import { relayedMessaging } from "../services/gateway/messaging-relay.ts";
import { createAuthenticator } from "../services/identity/authenticator.ts";
import { createTokenIssuer } from "../services/identity/tokens.ts";
import { createMessagingRelayService } from "../services/messaging/relay-service.ts";
import { callerOf, createAuthInterceptor, internalKeyInterceptor, onBehalfOf } from "../services/shared/auth.ts";
import { conversationNotFound, reasonOf } from "../services/shared/errors.ts";
import { createLocalClient } from "../services/shared/local-client.ts";
import { silentLogger } from "../services/shared/logger.ts";
import { type Served, serve } from "../services/shared/serve.ts";
import { memoryDeviceStore } from "./helpers/device-store.ts";

const servers: Served[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close(100)));
});

const key = "test internal key";

async function setUp(options: { relay?: boolean; gatewayKey?: string; inFlightLimit?: number; instances?: number } = {}) {
  const clock = { now: () => Date.now() };
  const devices = memoryDeviceStore();
  const tokens = createTokenIssuer({ secret: new Uint8Array(32).fill(9), clock, accessTtlMs: 60_000 });
  const authenticator = createAuthenticator({ tokens, devices, clock });
  const signIn = async (userId: string, deviceId: string) => {
    await devices.create({ deviceId, userId, name: deviceId, createdAt: clock.now(), revokedAt: null });
    return authenticator.authenticate((await tokens.issueAccess(userId, deviceId)).token);
  };
  let held: Promise<void> | undefined;
  const heldCalls = { running: 0, most: 0 };
  const inFlight = { value: 0, inc: () => inFlight.value++, dec: () => inFlight.value-- };
  /** Per instance, the conversation of every send and receipt it answered. */
  const seen: string[][] = [];
  const implFor = (instance: number) =>
    ({
      async sendMessage(req: { conversationId: string; clientMessageId: string }, ctx: HandlerContext) {
        const caller = callerOf(ctx);
        seen[instance]?.push(req.conversationId);
        if (req.conversationId === "missing") throw conversationNotFound();
        if (req.conversationId === "held") {
          heldCalls.most = Math.max(heldCalls.most, ++heldCalls.running);
          await held;
          heldCalls.running--;
        }
        return { messageId: `${caller.userId}/${caller.deviceId}/${req.clientMessageId}`, sequence: 1n };
      },
      async markDelivered(req: { conversationId: string }, ctx: HandlerContext) {
        callerOf(ctx);
        seen[instance]?.push(req.conversationId);
        return {};
      },
    }) as unknown as ServiceImpl<typeof MessagingService>;
  const procedures: string[] = [];
  const seeProcedures: Interceptor = (next) => (req) => {
    procedures.push(req.method.name);
    return next(req);
  };
  const draining = new AbortController();
  const instances: { url: string; served: Served }[] = [];
  for (let instance = 0; instance < (options.instances ?? 1); instance++) {
    seen.push([]);
    const impl = implFor(instance);
    const served = await serve({
      routes: (router) => {
        router.service(MessagingService, impl);
        if (options.relay !== false) {
          router.service(
            MessagingRelayService,
            createMessagingRelayService({
              messaging: createLocalClient(MessagingService, impl, authenticator),
              logger: silentLogger,
              closing: draining.signal,
              inFlightLimit: options.inFlightLimit,
              inFlight,
            }),
          );
        }
      },
      interceptors: [seeProcedures, createAuthInterceptor(authenticator, { internalKey: key })],
      host: "127.0.0.1",
      port: 0,
      logger: silentLogger,
    });
    servers.push(served);
    instances.push({ url: `http://127.0.0.1:${served.port}`, served });
  }
  const url = (instances[0] as { url: string }).url;
  const messaging: Client<typeof MessagingService> = relayedMessaging(
    createClient(MessagingService, createGrpcTransport({ baseUrl: url })),
    instances.map((instance) => ({
      url: instance.url,
      client: createClient(
        MessagingRelayService,
        createGrpcTransport({ baseUrl: instance.url, interceptors: [internalKeyInterceptor(options.gatewayKey ?? key)] }),
      ),
    })),
    silentLogger,
  );
  const relayClient = createClient(
    MessagingRelayService,
    createGrpcTransport({ baseUrl: url, interceptors: [internalKeyInterceptor(key)] }),
  );
  return {
    messaging,
    relayClient,
    seen,
    instances,
    signIn,
    devices,
    procedures,
    draining,
    heldCalls,
    inFlight,
    hold: () => {
      let release = () => {};
      held = new Promise((resolve) => (release = resolve));
      return release;
    },
  };
}

const failsWith = (code: Code, reason?: string) => (error: unknown) => {
  assert.ok(error instanceof ConnectError, String(error));
  assert.equal(error.code, code, error.message);
  if (reason !== undefined) assert.equal(reasonOf(error), reason);
  return true;
};

test("sends and receipts of several devices go over one stream, each as its own device", async () => {
  const { messaging, signIn, procedures } = await setUp();
  const alice = await signIn("alice", "phone");
  const bob = await signIn("bob", "laptop");
  const sends = Array.from({ length: 20 }, (_, i) =>
    messaging.sendMessage({ conversationId: "c", clientMessageId: `m${i}` }, { headers: onBehalfOf(i % 2 ? bob : alice) }),
  );
  const ids = (await Promise.all(sends)).map((r) => r.messageId);
  assert.deepEqual(
    ids,
    Array.from({ length: 20 }, (_, i) => (i % 2 ? `bob/laptop/m${i}` : `alice/phone/m${i}`)),
  );
  await messaging.markDelivered({ conversationId: "c", throughSequence: 3n }, { headers: onBehalfOf(bob) });
  assert.deepEqual(procedures, ["Relay"]);
});

test("a relayed call fails as the call would: reason included, a signed-out device refused", async () => {
  const { messaging, signIn, devices } = await setUp();
  const alice = await signIn("alice", "phone");
  await assert.rejects(
    messaging.sendMessage({ conversationId: "missing", clientMessageId: "m" }, { headers: onBehalfOf(alice) }),
    failsWith(Code.NotFound, "CONVERSATION_NOT_FOUND"),
  );
  await devices.revoke("phone", Date.now());
  await assert.rejects(
    messaging.sendMessage({ conversationId: "c", clientMessageId: "m" }, { headers: onBehalfOf(alice) }),
    failsWith(Code.Unauthenticated, "DEVICE_REVOKED"),
  );
  await assert.rejects(
    messaging.sendMessage({ conversationId: "c", clientMessageId: "m" }, { headers: { authorization: "Bearer forged" } }),
    failsWith(Code.Unauthenticated),
  );
});

test("the relay stream needs the internal key", async () => {
  const { messaging, signIn, procedures } = await setUp({ gatewayKey: "a wrong key" });
  const alice = await signIn("alice", "phone");
  await assert.rejects(
    messaging.sendMessage({ conversationId: "c", clientMessageId: "m" }, { headers: onBehalfOf(alice) }),
    failsWith(Code.Unauthenticated, "INTERNAL_KEY_REQUIRED"),
  );
  assert.ok(!procedures.includes("SendMessage"), "no call went around the refused stream");
});

test("an instance without the relay is reached with calls", async () => {
  const { messaging, signIn, procedures } = await setUp({ relay: false });
  const alice = await signIn("alice", "phone");
  const sent = await messaging.sendMessage({ conversationId: "c", clientMessageId: "m1" }, { headers: onBehalfOf(alice) });
  assert.equal(sent.messageId, "alice/phone/m1");
  await messaging.sendMessage({ conversationId: "c", clientMessageId: "m2" }, { headers: onBehalfOf(alice) });
  // The refused stream never reaches the interceptors (the router answers UNIMPLEMENTED itself).
  assert.deepEqual(procedures, ["SendMessage", "SendMessage"]);
});

test("a draining instance answers the calls running, then ends the stream and refuses new ones", async () => {
  const { messaging, signIn, draining, hold } = await setUp();
  const alice = await signIn("alice", "phone");
  const release = hold();
  const running = messaging.sendMessage({ conversationId: "held", clientMessageId: "m1" }, { headers: onBehalfOf(alice) });
  await new Promise((resolve) => setTimeout(resolve, 50));
  draining.abort();
  release();
  assert.equal((await running).messageId, "alice/phone/m1");
  await assert.rejects(
    messaging.sendMessage({ conversationId: "c", clientMessageId: "m2" }, { headers: onBehalfOf(alice) }),
    failsWith(Code.Unavailable),
  );
});

test("a relay request that names no call is answered RELAY_CALL_MISSING, and the stream goes on", async () => {
  const { relayClient, signIn } = await setUp();
  const alice = await signIn("alice", "phone");
  async function* requests() {
    yield { id: 1n, accessToken: alice.token };
    yield {
      id: 2n,
      accessToken: alice.token,
      call: { case: "sendMessage" as const, value: { conversationId: "c", clientMessageId: "m" } },
    };
  }
  const answers = [];
  for await (const answer of relayClient.relay(requests())) answers.push(answer);
  const missing = answers.find((a) => a.id === 1n)?.outcome;
  assert.equal(missing?.case, "error");
  assert.equal(missing.value.code, Code.InvalidArgument);
  assert.deepEqual(
    missing.value.details.map((d) => fromBinary(ErrorDetailSchema, d.value).reason),
    ["RELAY_CALL_MISSING"],
  );
  const sent = answers.find((a) => a.id === 2n)?.outcome;
  assert.equal(sent?.case === "sendMessage" && sent.value.messageId, "alice/phone/m");
});

test("a stream runs at most its limit of requests at once; the rest wait their turn", async () => {
  const { messaging, signIn, hold, heldCalls, inFlight } = await setUp({ inFlightLimit: 2 });
  const alice = await signIn("alice", "phone");
  const release = hold();
  const sends = Array.from({ length: 5 }, (_, i) =>
    messaging.sendMessage({ conversationId: "held", clientMessageId: `m${i}` }, { headers: onBehalfOf(alice) }),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(heldCalls.running, 2);
  assert.equal(inFlight.value, 2);
  release();
  assert.deepEqual(
    (await Promise.all(sends)).map((r) => r.messageId),
    Array.from({ length: 5 }, (_, i) => `alice/phone/m${i}`),
  );
  assert.equal(heldCalls.most, 2);
  assert.equal(inFlight.value, 0);
});

test("a conversation's sends and receipts all go to one instance; while it is gone, to the next", async () => {
  const { messaging, signIn, seen, instances } = await setUp({ instances: 3 });
  const alice = await signIn("alice", "phone");
  const as = { headers: onBehalfOf(alice) };
  const conversations = Array.from({ length: 30 }, (_, i) => `conversation-${i}`);
  for (const conversationId of conversations) {
    await messaging.sendMessage({ conversationId, clientMessageId: "m1" }, as);
    await messaging.markDelivered({ conversationId, throughSequence: 1n }, as);
    await messaging.sendMessage({ conversationId, clientMessageId: "m2" }, as);
  }
  const instanceOf = (conversationId: string) => seen.findIndex((ids) => ids.includes(conversationId));
  for (const conversationId of conversations) {
    const at = seen.filter((ids) => ids.includes(conversationId));
    assert.equal(at.length, 1, `${conversationId} went to one instance`);
    assert.equal(at[0]?.filter((id) => id === conversationId).length, 3);
  }
  assert.ok(
    seen.every((ids) => ids.length > 0),
    `every instance has some conversations: ${seen.map((ids) => ids.length)}`,
  );

  const gone = instanceOf("conversation-0");
  await (instances[gone] as { served: Served }).served.close(100);
  const before = seen.map((ids) => ids.length);
  await messaging.sendMessage({ conversationId: "conversation-0", clientMessageId: "m3" }, as);
  assert.equal(seen[gone]?.length, before[gone], "not the instance that is gone");
  assert.equal(seen.flat().length, before.reduce((a, b) => a + b) + 1, "but another one");
});
