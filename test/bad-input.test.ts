// Acceptance g: bad input gets the documented code and stores nothing; outsiders cannot tell a
// conversation exists; a device that stops acking is held at its window, never dropped.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { ErrorDetailSchema } from "../gen/parley/v1/errors_pb.js";
import { range, sequencesIn, textMessage } from "./helpers/chat.ts";
import { eventually, newPhone, type SignedIn, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
let alice: SignedIn;
let bob: SignedIn;
let mallory: SignedIn;
let conversationId: string;
before(async () => {
  t = await startTestParley();
  [alice, bob, mallory] = await Promise.all([t.signIn(newPhone()), t.signIn(newPhone()), t.signIn(newPhone())]);
  const { conversation } = await t.clients.conversations.getOrCreateDirect(
    { peerUserId: bob.userId },
    { headers: bearer(alice.accessToken) },
  );
  conversationId = conversation?.conversationId ?? "";
});
after(() => t.stop());

async function refusal(call: Promise<unknown>): Promise<{ code: Code; reason: string; field: string; message: string }> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ConnectError, `expected a ConnectError, got ${error}`);
    const detail = error.findDetails(ErrorDetailSchema)[0];
    return { code: error.code, reason: detail?.reason ?? "", field: detail?.field ?? "", message: error.rawMessage };
  }
  assert.fail("the call succeeded");
}

const lastSequence = async () =>
  (await t.clients.conversations.getConversation({ conversationId }, { headers: bearer(alice.accessToken) })).conversation
    ?.lastSequence;

describe("authentication", () => {
  test("no token, a malformed token and a forged token are UNAUTHENTICATED", async () => {
    const call = (headers: Record<string, string>) => t.clients.conversations.listConversations({}, { headers });
    assert.deepEqual(await refusal(call({})), {
      code: Code.Unauthenticated,
      reason: "TOKEN_MISSING",
      field: "",
      message: "authorization: Bearer <access token> is required",
    });
    assert.equal((await refusal(call({ authorization: "Bearer nonsense" }))).reason, "TOKEN_INVALID");
    const [header, payload] = alice.accessToken.split(".");
    assert.equal((await refusal(call({ authorization: `Bearer ${header}.${payload}.forgedsignature` }))).reason, "TOKEN_INVALID");
  });

  test("a stream without a token is refused", async () => {
    const stream = new DeviceStream(t.clients.session, { accessToken: "" });
    const error = await stream.ended;
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.Unauthenticated);
  });
});

describe("authorization", () => {
  test("an outsider gets the same NOT_FOUND for a real conversation as for one that does not exist", async () => {
    const outsider = { headers: bearer(mallory.accessToken) };
    const missing = "0190a1b2-0000-7000-8000-000000000000";
    const calls = [
      (id: string) => t.clients.messaging.sendMessage(textMessage(id, "let me in"), outsider),
      (id: string) => t.clients.messaging.listMessages({ conversationId: id }, outsider),
      (id: string) => t.clients.conversations.getConversation({ conversationId: id }, outsider),
      (id: string) => t.clients.messaging.markRead({ conversationId: id, throughSequence: 1n }, outsider),
      (id: string) => t.clients.conversations.addMembers({ conversationId: id, userIds: [mallory.userId] }, outsider),
    ];
    for (const call of calls) {
      const real = await refusal(call(conversationId));
      assert.equal(real.code, Code.NotFound);
      assert.deepEqual(real, await refusal(call(missing)));
    }
    const sync = await t.clients.messaging.sync({ cursors: [{ conversationId, sequence: 0n }], listedOnly: true }, outsider);
    assert.equal(sync.events.length, 0);
    assert.equal(await lastSequence(), 1n, "nothing was stored");
  });

  test("an outsider's stream send is refused in its SendResult and the stream goes on", async () => {
    const stream = new DeviceStream(t.clients.session, { accessToken: mallory.accessToken });
    await stream.caughtUp;
    const result = await stream.send(textMessage(conversationId, "hi"));
    assert.equal(result.outcome.case, "error");
    assert.equal(result.outcome.case === "error" && result.outcome.value.code, Code.NotFound);
    const ok = await stream.send(textMessage("not-an-id", "x"));
    assert.equal(ok.outcome.case === "error" && ok.outcome.value.detail?.field, "conversation_id");
    stream.close();
  });
});

describe("validation", () => {
  const auth = () => ({ headers: bearer(alice.accessToken) });
  const cases: [string, () => ReturnType<typeof textMessage>, string, string][] = [
    ["empty text", () => textMessage(conversationId, "   "), "content.text.body", "EMPTY"],
    ["oversized text", () => textMessage(conversationId, "x".repeat(4097)), "content.text.body", "CONTENT_TOO_LARGE"],
    ["no content", () => ({ conversationId, clientMessageId: "c1" }), "content", "EMPTY"],
    ["malformed conversation id", () => textMessage("../etc/passwd", "hi"), "conversation_id", "MALFORMED_ID"],
    ["malformed client_message_id", () => textMessage(conversationId, "hi", "has spaces!"), "client_message_id", "MALFORMED_ID"],
    ["empty client_message_id", () => textMessage(conversationId, "hi", ""), "client_message_id", "MALFORMED_ID"],
  ];
  for (const [name, request, field, reason] of cases) {
    test(`${name} is INVALID_ARGUMENT naming ${field}, and stores nothing`, async () => {
      const before = await lastSequence();
      const error = await refusal(t.clients.messaging.sendMessage(request(), auth()));
      assert.equal(error.code, Code.InvalidArgument);
      assert.equal(error.field, field);
      assert.equal(error.reason, reason);
      assert.equal(await lastSequence(), before);
    });
  }

  test("multi-byte text is measured in bytes", async () => {
    const error = await refusal(t.clients.messaging.sendMessage(textMessage(conversationId, "é".repeat(2049)), auth()));
    assert.equal(error.reason, "CONTENT_TOO_LARGE");
  });

  test("an ack beyond the last delivery is reported on the stream, which goes on", async () => {
    const errors: string[] = [];
    const stream = new DeviceStream(
      t.clients.session,
      { accessToken: alice.accessToken },
      { onError: (e) => errors.push(e.detail?.reason ?? "") },
    );
    await stream.caughtUp;
    stream.sendFrame({ case: "ack", value: { throughDeliveryId: 99_999n } });
    stream.sendFrame({ case: "hello", value: {} });
    stream.sendFrame({ case: undefined });
    await stream.ping();
    assert.deepEqual(errors, ["ACK_OUT_OF_RANGE", "UNEXPECTED_FRAME", "UNKNOWN_FRAME"]);
    stream.close();
  });

  test("a stream whose first frame is not Hello is ended with INVALID_ARGUMENT", async () => {
    const raw = t.clients.session.connect(
      (async function* () {
        yield { frame: { case: "heartbeat" as const, value: { nonce: 1n } } };
      })(),
      { headers: bearer(alice.accessToken) },
    );
    const error = await (async () => {
      try {
        for await (const _ of raw);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.InvalidArgument);
    assert.equal(error.findDetails(ErrorDetailSchema)[0]?.reason, "HELLO_REQUIRED");
  });
});

describe("flow control", () => {
  test("a device that stops acking gets exactly its window, then the rest once it acks, none dropped", async () => {
    const window = 5;
    let acked = 0n;
    let mostInFlight = 0n;
    const stream = new DeviceStream(
      t.clients.session,
      { accessToken: bob.accessToken, window, autoAck: false },
      {
        onEvent: (_event, deliveryId) => {
          if (deliveryId - acked > mostInFlight) mostInFlight = deliveryId - acked;
        },
      },
    );
    const ackAll = () => {
      acked = stream.lastDeliveryId;
      stream.ack(acked);
    };
    await stream.caughtUp;
    ackAll();
    const sender = { headers: bearer(alice.accessToken) };
    const start = (await lastSequence()) ?? 0n;
    for (let i = 0; i < 30; i++) await t.clients.messaging.sendMessage(textMessage(conversationId, `flood ${i}`), sender);
    const end = start + 30n;
    await eventually("window filled", () => stream.events.length >= window);
    await stream.ping();
    assert.equal(stream.events.filter((e) => e.sequence > start).length, window, "the server waits for acks");

    while ((stream.cursors.get(conversationId) ?? 0n) < end) {
      ackAll();
      await stream.ping();
    }
    assert.ok(mostInFlight <= BigInt(window), `at most ${window} unacked at any time (saw ${mostInFlight})`);
    assert.deepEqual(
      sequencesIn(stream.events, conversationId).filter((s) => s > start),
      range(start + 1n, end),
    );
    stream.close();
  });
});
