// The WebSocket device stream: the same session scenarios run over gRPC and WebSocket, a mixed
// conversation, and bad input that closes only the offending socket.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import WebSocket from "ws";
import { DeviceStream, type DeviceStreamOptions, type StreamListener } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { openWsDeviceStream } from "../clients/node/ws-stream.ts";
import { ConnectRequestSchema, ConnectResponseSchema, GoAwayReason } from "../gen/parley/v1/session_pb.js";
import { range, sequencesIn, textMessage, textOf } from "./helpers/chat.ts";
import { eventually, newPhone, type SignedIn, signInOn, tempDataDir } from "./helpers/parley.ts";
import { type ParleyProcess, spawnParley } from "./helpers/process.ts";

interface Server {
  proc: ParleyProcess;
  wsUrl: string;
  signIn(deviceName?: string, phone?: string): Promise<SignedIn>;
}

/** A real server process with the WebSocket port on; wsPort is read from its "parley listening" log line. */
async function startServer(): Promise<Server> {
  const proc = await spawnParley({ dataDir: tempDataDir(), env: { PARLEY_WS_PORT: "0" } });
  const wsPort = proc.logs.find((entry) => entry.msg === "parley listening")?.wsPort;
  assert.equal(typeof wsPort, "number", "the listening line names wsPort");
  return {
    proc,
    wsUrl: `ws://127.0.0.1:${wsPort}/v1/session`,
    signIn: (deviceName, phone = newPhone()) => signInOn(proc.clients, proc.codes, phone, deviceName),
  };
}

let s: Server;
before(async () => {
  s = await startServer();
});
after(async () => {
  await s.proc.kill("SIGTERM");
  // Bad input and abrupt disconnects must not surface as process-level failures.
  assert.deepEqual(
    s.proc.logs.filter((e) => e.level === "error"),
    [],
  );
});

type Open = (who: SignedIn, options?: Omit<DeviceStreamOptions, "accessToken">, listener?: StreamListener) => DeviceStream;
const transports: Record<string, Open> = {
  grpc: (who, options, listener) =>
    new DeviceStream(s.proc.clients.session, { accessToken: who.accessToken, ...options }, listener),
  websocket: (who, options, listener) => openWsDeviceStream(s.wsUrl, { accessToken: who.accessToken, ...options }, listener),
};

/** Two users with a direct conversation (sequence 1 is its creation). */
async function pair(): Promise<{ alice: SignedIn; bob: SignedIn; id: string }> {
  const [alice, bob] = await Promise.all([s.signIn("alice"), s.signIn("bob")]);
  const { conversation } = await s.proc.clients.conversations.getOrCreateDirect(
    { peerUserId: bob.userId },
    { headers: bearer(alice.accessToken) },
  );
  return { alice, bob, id: conversation?.conversationId ?? "" };
}

async function sendUnary(from: SignedIn, id: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await s.proc.clients.messaging.sendMessage(textMessage(id, `m${i}`), { headers: bearer(from.accessToken) });
}

const sequenceOf = (r: Awaited<ReturnType<DeviceStream["send"]>>) => (r.outcome.case === "sent" ? r.outcome.value.sequence : -1n);

for (const [name, open] of Object.entries(transports)) {
  describe(`session conformance over ${name}`, () => {
    test("Ready, replay of 50 missed messages, CaughtUp, then live, in that order", async () => {
      const { alice, bob, id } = await pair();
      await sendUnary(alice, id, 50);
      const kinds: string[] = [];
      const stream = open(bob, {}, { onFrame: (f) => kinds.push(f.frame.case === "event" ? "event" : String(f.frame.case)) });
      assert.equal(await stream.caughtUp, 51);
      assert.equal((await stream.ready).deviceId, bob.deviceId);
      await sendUnary(alice, id, 1);
      await eventually("the live message", () => stream.events.length === 52);
      assert.deepEqual(sequencesIn(stream.events, id), range(1n, 52n));
      // Presence frames (the snapshot after CaughtUp, then updates) have their own test file.
      const order = kinds.filter((k) => !["receipt", "heartbeat", "presenceSnapshot", "presence"].includes(k));
      assert.deepEqual(order, ["ready", ...Array(51).fill("event"), "caughtUp", "event"]);
      stream.close();
      assert.equal(await stream.ended, undefined);
    });

    test("send returns SendResult with its sequence; a retry is idempotent", async () => {
      const { alice, id } = await pair();
      const stream = open(alice);
      await stream.caughtUp;
      const first = await stream.send(textMessage(id, "one", "cmid-1"));
      assert.equal(first.clientMessageId, "cmid-1");
      assert.equal(sequenceOf(first), 2n);
      const retry = await stream.send(textMessage(id, "one", "cmid-1"));
      assert.equal(sequenceOf(retry), 2n);
      assert.equal(retry.outcome.case === "sent" && retry.outcome.value.duplicate, true);
      const next = await stream.send(textMessage(id, "two"));
      assert.equal(sequenceOf(next), 3n, "the retry allocated nothing");
      stream.close();
    });

    test("the window holds unacked deliveries; acks open it", async () => {
      const { alice, bob, id } = await pair();
      await sendUnary(alice, id, 10);
      const stream = open(bob, { window: 4, autoAck: false });
      await stream.ready;
      await eventually("a full window", () => stream.events.length === 4);
      await stream.ping();
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(stream.events.length, 4, "no more than the window while nothing is acked");
      stream.ack();
      await eventually("the next window", () => stream.events.length === 8);
      stream.ack();
      await eventually("the rest", () => stream.events.length === 11);
      assert.equal(await stream.caughtUp, 11);
      assert.deepEqual(sequencesIn(stream.events, id), range(1n, 11n));
      stream.close();
    });

    test("heartbeat is echoed", async () => {
      const { alice } = await pair();
      const stream = open(alice);
      await stream.ready;
      await stream.ping();
      await stream.ping();
      stream.close();
    });

    test("a second stream of the same device replaces the first with GoAway(REPLACED)", async () => {
      const { alice } = await pair();
      const first = open(alice);
      await first.caughtUp;
      const second = open(alice);
      await second.caughtUp;
      assert.equal(await first.ended, undefined);
      assert.equal(first.goAway?.reason, GoAwayReason.REPLACED);
      await second.ping();
      second.close();
    });
  });
}

test("a gRPC client and a WebSocket client in one conversation see the same order", async () => {
  const { alice, bob, id } = await pair();
  const viaGrpc = transports.grpc?.(alice) as DeviceStream;
  const viaWs = transports.websocket?.(bob) as DeviceStream;
  await Promise.all([viaGrpc.caughtUp, viaWs.caughtUp]);
  await Promise.all(
    [viaGrpc, viaWs].map(async (stream, who) => {
      for (let i = 0; i < 20; i++) await stream.send(textMessage(id, `${who}:${i}`));
    }),
  );
  for (const stream of [viaGrpc, viaWs]) await eventually("all 41", () => stream.cursors.get(id) === 41n);
  assert.deepEqual(sequencesIn(viaGrpc.events, id), range(1n, 41n));
  assert.deepEqual(viaWs.events.map(textOf), viaGrpc.events.map(textOf));
  viaGrpc.close();
  viaWs.close();
});

/** A raw socket for bad input; resolves with how the server closed it. */
function rawSocket(): { socket: WebSocket; closed: Promise<{ code: number; reason: string }>; opened: Promise<void> } {
  const socket = new WebSocket(s.wsUrl);
  socket.on("error", () => {});
  const opened = new Promise<void>((resolve) => socket.once("open", () => resolve()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { socket, closed, opened };
}

const frame = (init: Parameters<typeof create<typeof ConnectRequestSchema>>[1]) =>
  toBinary(ConnectRequestSchema, create(ConnectRequestSchema, init));

describe("bad input over WebSocket closes only that socket", () => {
  let healthyWs: DeviceStream;
  let healthyGrpc: DeviceStream;
  let id: string;
  before(async () => {
    const p = await pair();
    id = p.id;
    healthyWs = openWsDeviceStream(s.wsUrl, { accessToken: p.alice.accessToken });
    healthyGrpc = new DeviceStream(s.proc.clients.session, { accessToken: p.bob.accessToken });
    await Promise.all([healthyWs.caughtUp, healthyGrpc.caughtUp]);
  });
  after(() => {
    healthyWs.close();
    healthyGrpc.close();
  });

  /** Both healthy clients still send, receive and echo. */
  async function stillHealthy(): Promise<void> {
    const body = randomUUID();
    const result = await healthyWs.send(textMessage(id, body));
    assert.equal(result.outcome.case, "sent");
    await eventually("delivery to the gRPC client", () => healthyGrpc.events.some((e) => textOf(e) === body));
    await Promise.all([healthyWs.ping(), healthyGrpc.ping()]);
  }

  const cases: [string, (socket: WebSocket, token: string) => void, number, RegExp][] = [
    ["non-protobuf bytes", (ws) => ws.send(Buffer.from([0x0f, 0xff, 0xff])), 1007, /^INVALID_ARGUMENT: .*not a protobuf/],
    ["a text frame", (ws) => ws.send("hello"), 1003, /text frames/],
    ["an oversized frame", (ws) => ws.send(Buffer.alloc(70 * 1024)), 1009, /exceeds the 65536-byte limit/],
    [
      "a frame before Hello",
      (ws) => ws.send(frame({ frame: { case: "ack", value: { throughDeliveryId: 1n } } })),
      4401,
      /^UNAUTHENTICATED: /,
    ],
    ["Hello without a token", (ws) => ws.send(frame({ frame: { case: "hello", value: {} } })), 4401, /^UNAUTHENTICATED: /],
    [
      "a bad token",
      (ws) => ws.send(frame({ frame: { case: "hello", value: { accessToken: "not-a-token" } } })),
      4401,
      /^UNAUTHENTICATED: /,
    ],
    [
      "garbage after a valid Hello",
      (ws, token) => {
        ws.send(frame({ frame: { case: "hello", value: { accessToken: token } } }));
        ws.send(Buffer.from([0x0f, 0xff, 0xff]));
      },
      1007,
      /^INVALID_ARGUMENT: /,
    ],
  ];
  for (const [what, misbehave, code, reason] of cases) {
    test(`${what} closes with ${code}`, async () => {
      const intruder = await s.signIn("intruder");
      const { socket, closed, opened } = rawSocket();
      await opened;
      misbehave(socket, intruder.accessToken);
      const result = await closed;
      assert.equal(result.code, code, result.reason);
      assert.match(result.reason, reason);
      await stillHealthy();
    });
  }

  test("an abrupt disconnect mid-stream leaves the server and others working", async () => {
    const who = await s.signIn("flaky");
    const stream = openWsDeviceStream(s.wsUrl, { accessToken: who.accessToken });
    await stream.caughtUp;
    stream.abort();
    await stream.ended;
    const again = openWsDeviceStream(s.wsUrl, { accessToken: who.accessToken });
    await again.ping();
    again.close();
    await stillHealthy();
  });

  test("no Hello within 10 s closes with 4408", async () => {
    const { closed, opened } = rawSocket();
    await opened;
    const result = await closed;
    assert.equal(result.code, 4408);
    assert.match(result.reason, /^DEADLINE_EXCEEDED: /);
    await stillHealthy();
  });

  test("a wrong path is refused at the handshake", async () => {
    const socket = new WebSocket(s.wsUrl.replace("/v1/session", "/nope"));
    const status = await new Promise<number>((resolve) => {
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.on("error", () => resolve(-1));
    });
    assert.notEqual(status, 101);
  });
});

test("a draining server sends GoAway(SERVER_DRAINING) then closes 1001", async () => {
  const other = await startServer();
  const who = await other.signIn("drained");
  const socket = new WebSocket(other.wsUrl);
  const frames: string[] = [];
  let goAway: GoAwayReason | undefined;
  socket.on("message", (data) => {
    const response = fromBinary(ConnectResponseSchema, data as Buffer);
    frames.push(response.frame.case ?? "");
    if (response.frame.case === "goAway") goAway = response.frame.value.reason;
  });
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  await new Promise((resolve) => socket.once("open", resolve));
  socket.send(frame({ frame: { case: "hello", value: { accessToken: who.accessToken } } }));
  await eventually("caught up", () => frames.includes("caughtUp"));
  const exited = other.proc.kill("SIGTERM");
  assert.equal(await closed, 1001);
  assert.equal(goAway, GoAwayReason.SERVER_DRAINING);
  assert.equal(await exited, 0);
});
