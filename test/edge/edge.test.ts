// Parley behind the real Envoy edge (envoy/envoy.yaml): TLS 1.3 only, gRPC and WebSocket clients
// chatting through it, reflection and health, and stream idle timeout versus heartbeats.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { connect as netConnect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { promisify } from "node:util";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { bearer } from "../../clients/node/transport.ts";
import { openWsDeviceStream } from "../../clients/node/ws-stream.ts";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import { edgeRunDir, repoRoot } from "../../scripts/edge/render.ts";
import { textMessage, textOf } from "../helpers/chat.ts";
import { eventually, newPhone, signInOn, tempDataDir } from "../helpers/parley.ts";
import { type ParleyProcess, spawnParley } from "../helpers/process.ts";
import { devCa, type Envoy, startEnvoy } from "./envoy.ts";

const ca = devCa();
// clients/node/ws-stream.ts takes no TLS options, so the WebSocket client trusts the dev CA through
// the process-wide default CA list (the same effect as NODE_EXTRA_CA_CERTS).
tls.setDefaultCACertificates([...tls.getCACertificates("default"), ca.toString()]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const order = (events: ConversationEvent[], id: string) =>
  events.filter((e) => e.conversationId === id).map((e) => `${e.sequence}:${textOf(e)}`);

describe("through the edge", () => {
  let parley: ParleyProcess;
  let edge: Envoy;
  before(async () => {
    parley = await spawnParley({ dataDir: tempDataDir() });
    edge = await startEnvoy({ name: "main", grpcPort: parley.port, wsPort: parley.wsPort });
  });
  after(async () => {
    await edge?.stop();
    await parley?.kill("SIGTERM");
  });

  test("a gRPC client and a WebSocket client chat through Envoy over TLS 1.3 and see one order", async () => {
    const [alice, bob] = await Promise.all([
      signInOn(edge.clients, parley.codes, newPhone(), "alice (gRPC)"),
      signInOn(edge.clients, parley.codes, newPhone(), "bob (WebSocket)"),
    ]);
    const { conversation } = await edge.clients.conversations.getOrCreateDirect(
      { peerUserId: bob.userId },
      { headers: bearer(alice.accessToken) },
    );
    const id = conversation?.conversationId ?? "";
    const grpc = new DeviceStream(edge.clients.session, { accessToken: alice.accessToken });
    const ws = openWsDeviceStream(`wss://127.0.0.1:${edge.port}/v1/session`, { accessToken: bob.accessToken });
    try {
      await Promise.all([grpc.caughtUp, ws.caughtUp]);
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        sends.push(grpc.send(textMessage(id, `alice ${i}`)));
        sends.push(ws.send(textMessage(id, `bob ${i}`)));
      }
      const results = await Promise.all(sends);
      assert.equal(results.length, 20);
      // Sequence 1 is the conversation's creation, then 20 messages.
      await eventually(
        "both devices hold all 21 events",
        () => order(grpc.events, id).length === 21 && order(ws.events, id).length === 21,
      );
      assert.deepEqual(order(grpc.events, id), order(ws.events, id));
      assert.deepEqual(
        grpc.events.filter((e) => e.conversationId === id).map((e) => e.sequence),
        Array.from({ length: 21 }, (_, i) => BigInt(i + 1)),
      );
    } finally {
      grpc.close();
      ws.close();
      await Promise.all([grpc.ended, ws.ended]);
    }
  });

  test("TLS 1.3 with ALPN h2 is accepted", async () => {
    const socket = tls.connect({ host: "127.0.0.1", port: edge.port, ca, ALPNProtocols: ["h2", "http/1.1"] });
    await new Promise<void>((ok, fail) => socket.once("secureConnect", ok).once("error", fail));
    assert.equal(socket.getProtocol(), "TLSv1.3");
    assert.equal(socket.alpnProtocol, "h2");
    socket.destroy();
  });

  test("TLS 1.2 is refused", async () => {
    const socket = tls.connect({ host: "127.0.0.1", port: edge.port, ca, maxVersion: "TLSv1.2" });
    const outcome = await new Promise<string>((ok) => {
      socket.once("secureConnect", () => ok("connected"));
      socket.once("error", (error) => ok(`error: ${error.message}`));
    });
    socket.destroy();
    assert.match(outcome, /^error: /);
  });

  test("plaintext HTTP gets no HTTP answer", async () => {
    const socket = netConnect({ host: "127.0.0.1", port: edge.port });
    const received: Buffer[] = [];
    socket.on("data", (d) => received.push(d));
    socket.on("error", () => {});
    socket.once("connect", () => socket.write("GET /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    await new Promise((ok) => socket.once("close", ok));
    assert.doesNotMatch(Buffer.concat(received).toString("latin1"), /^HTTP\//);
  });

  test("buf curl lists Parley's services by reflection and health answers SERVING, over TLS", async () => {
    const run = promisify(execFile);
    const buf = join(repoRoot, "node_modules/.bin/buf");
    const cacert = join(edgeRunDir(), "ca.pem");
    const list = await run(buf, ["curl", "--protocol", "grpc", "--cacert", cacert, "--list-methods", edge.url]);
    for (const method of [
      "parley.v1.IdentityService/VerifyCode",
      "parley.v1.ConversationService/GetOrCreateDirect",
      "parley.v1.MessagingService/SendMessage",
      "parley.v1.SessionService/Connect",
      "grpc.health.v1.Health/Check",
    ])
      assert.ok(list.stdout.split("\n").includes(method), `buf curl lists ${method}:\n${list.stdout}`);
    const health = await run(buf, [
      "curl",
      "--protocol",
      "grpc",
      "--cacert",
      cacert,
      "-d",
      "{}",
      `${edge.url}/grpc.health.v1.Health/Check`,
    ]);
    assert.equal(JSON.parse(health.stdout).status, "SERVING");
    const viaClient = await edge.clients.health.check({ service: "parley.v1.SessionService" });
    assert.equal(viaClient.status, HealthCheckResponse_ServingStatus.SERVING);
  });
});

describe("stream idle timeout versus heartbeats (shortened timers)", () => {
  // Envoy cuts a stream after IDLE with no byte either way. The server heartbeats every 500 ms on
  // one Parley (the client echoes), and only every 60 s on the other, so its streams are silent.
  const IDLE_MS = 2_000;
  let beating: ParleyProcess;
  let silent: ParleyProcess;
  let beatingEdge: Envoy;
  let silentEdge: Envoy;
  before(async () => {
    [beating, silent] = await Promise.all([
      spawnParley({ dataDir: tempDataDir(), env: { PARLEY_HEARTBEAT_MS: "500" } }),
      spawnParley({ dataDir: tempDataDir(), env: { PARLEY_HEARTBEAT_MS: "60000" } }),
    ]);
    const streamIdleTimeout = `${IDLE_MS / 1000}s`;
    [beatingEdge, silentEdge] = await Promise.all([
      startEnvoy({ name: "beating", grpcPort: beating.port, wsPort: beating.wsPort, streamIdleTimeout }),
      startEnvoy({ name: "silent", grpcPort: silent.port, wsPort: silent.wsPort, streamIdleTimeout }),
    ]);
  });
  after(async () => {
    await Promise.all([beatingEdge?.stop(), silentEdge?.stop()]);
    await Promise.all([beating?.kill("SIGTERM"), silent?.kill("SIGTERM")]);
  });

  test("heartbeats below the idle timeout keep gRPC and WebSocket streams open for 3 x the idle timeout", async () => {
    const [a, b] = await Promise.all([
      signInOn(beatingEdge.clients, beating.codes, newPhone()),
      signInOn(beatingEdge.clients, beating.codes, newPhone()),
    ]);
    let heartbeats = 0;
    const countBeats = {
      onFrame: (f: { frame: { case: string | undefined } }) => void (f.frame.case === "heartbeat" && heartbeats++),
    };
    const grpc = new DeviceStream(beatingEdge.clients.session, { accessToken: a.accessToken }, countBeats);
    const ws = openWsDeviceStream(`wss://127.0.0.1:${beatingEdge.port}/v1/session`, { accessToken: b.accessToken }, countBeats);
    let ended = false;
    void Promise.race([grpc.ended, ws.ended]).then(() => (ended = true));
    await Promise.all([grpc.caughtUp, ws.caughtUp]);
    await sleep(3 * IDLE_MS);
    assert.equal(ended, false, "neither stream was cut");
    assert.ok(heartbeats > 0, "server heartbeats crossed the edge");
    await Promise.all([grpc.ping(), ws.ping()]);
    grpc.close();
    ws.close();
    await Promise.all([grpc.ended, ws.ended]);
  });

  test("without heartbeats the edge's stream_idle_timeout cuts a silent stream; the same stream held directly stays open", async () => {
    const [a, b] = await Promise.all([
      signInOn(silent.clients, silent.codes, newPhone()),
      signInOn(silent.clients, silent.codes, newPhone()),
    ]);
    const viaEdge = new DeviceStream(silentEdge.clients.session, { accessToken: a.accessToken });
    const direct = new DeviceStream(silent.clients.session, { accessToken: b.accessToken });
    let directEnded = false;
    void direct.ended.then(() => (directEnded = true));
    await Promise.all([viaEdge.caughtUp, direct.caughtUp]);
    const error = await viaEdge.ended;
    assert.ok(error, "the stream through the edge ended with an error (reset by Envoy)");
    assert.equal(viaEdge.goAway, undefined, "Parley did not end it (no GoAway): the edge did");
    assert.equal(directEnded, false, "the same silent stream without the edge is still open");
    await direct.ping();
    direct.close();
    await direct.ended;
  });
});
