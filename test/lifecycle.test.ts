// Stream liveness and server lifecycle: health, one stream per device, heartbeat timeout, token
// expiry, and a graceful SIGTERM that sends GoAway and keeps every message.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { ErrorDetailSchema } from "../gen/parley/v1/errors_pb.js";
import { GoAwayReason } from "../gen/parley/v1/session_pb.js";
import { textMessage } from "./helpers/chat.ts";
import { newPhone, signInOn, startTestParley, type TestParley, tempDataDir } from "./helpers/parley.ts";
import { spawnParley } from "./helpers/process.ts";

describe("liveness", () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley({ env: { PARLEY_HEARTBEAT_MS: "200", PARLEY_ACCESS_TOKEN_TTL_MS: "2500" } });
  });
  after(() => t.stop());

  test("health answers SERVING for the server and each service, NOT_FOUND for unknown ones", async () => {
    assert.equal((await t.clients.health.check({})).status, HealthCheckResponse_ServingStatus.SERVING);
    assert.equal(
      (await t.clients.health.check({ service: "parley.v1.SessionService" })).status,
      HealthCheckResponse_ServingStatus.SERVING,
    );
    await assert.rejects(
      t.clients.health.check({ service: "nope.v1.Nothing" }),
      (e) => e instanceof ConnectError && e.code === Code.NotFound,
    );
  });

  test("a second stream for the same device replaces the first with GoAway(REPLACED)", async () => {
    const user = await t.signIn(newPhone());
    const first = new DeviceStream(t.clients.session, { accessToken: user.accessToken });
    await first.caughtUp;
    const second = new DeviceStream(t.clients.session, { accessToken: user.accessToken });
    await second.caughtUp;
    await first.ended;
    assert.equal(first.goAway?.reason, GoAwayReason.REPLACED);
    assert.equal(second.goAway, undefined);
    await second.ping();
    second.close();
  });

  test("a peer that goes silent is dropped after three heartbeat intervals; one that answers stays", async () => {
    const user = await t.signIn(newPhone());
    const frames: string[] = [];
    let release!: () => void;
    const silent = t.clients.session.connect(
      (async function* () {
        yield { frame: { case: "hello" as const, value: {} } };
        await new Promise<void>((resolve) => (release = resolve)); // never answers a heartbeat
      })(),
      { headers: bearer(user.accessToken) },
    );
    for await (const frame of silent)
      frames.push(frame.frame.case === "goAway" ? `goAway:${frame.frame.value.reason}` : String(frame.frame.case));
    release();
    assert.ok(frames.includes("heartbeat"), "the server pinged");
    assert.equal(frames.at(-1), `goAway:${GoAwayReason.HEARTBEAT_TIMEOUT}`);

    const other = await t.signIn(newPhone());
    const lively = new DeviceStream(t.clients.session, { accessToken: other.accessToken });
    await lively.caughtUp;
    await new Promise((r) => setTimeout(r, 1000)); // five intervals, answering every ping
    assert.equal(lively.goAway, undefined);
    lively.close();
  });

  test("a device that pings every interval gets echoes and no pings of the server's own", async () => {
    const user = await t.signIn(newPhone());
    const heartbeats: { echo: boolean }[] = [];
    const stream = new DeviceStream(
      t.clients.session,
      { accessToken: user.accessToken },
      { onFrame: (f) => f.frame.case === "heartbeat" && heartbeats.push({ echo: f.frame.value.echo }) },
    );
    await stream.caughtUp;
    for (let i = 0; i < 8; i++) {
      await stream.ping(); // one ping per half interval: the server always has sent something lately
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(stream.goAway, undefined);
    assert.equal(heartbeats.filter((h) => h.echo).length, 8);
    assert.equal(heartbeats.filter((h) => !h.echo).length, 0, "the server pinged a device it was answering");
    // Once the device falls quiet, the server pings it again.
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(
      heartbeats.some((h) => !h.echo),
      "the server did not ping a quiet device",
    );
    stream.close();
  });

  test("an expired access token is refused and its stream is told to refresh", async () => {
    const user = await t.signIn(newPhone());
    const stream = new DeviceStream(t.clients.session, { accessToken: user.accessToken });
    await stream.caughtUp;
    await stream.ended;
    assert.equal(stream.goAway?.reason, GoAwayReason.TOKEN_EXPIRED);
    // The stream is closed one heartbeat before expiry; wait out the rest of the token's life.
    await new Promise((r) => setTimeout(r, 500));
    try {
      await t.clients.identity.listDevices({}, { headers: bearer(user.accessToken) });
      assert.fail(`expired token accepted at ${Date.now()}`);
    } catch (error) {
      assert.ok(error instanceof ConnectError, String(error));
      assert.equal(error.code, Code.Unauthenticated);
      assert.equal(error.findDetails(ErrorDetailSchema)[0]?.reason, "TOKEN_EXPIRED");
    }
    const refreshed = await t.clients.identity.refreshSession({ refreshToken: user.refreshToken });
    await t.clients.identity.listDevices({}, { headers: bearer(refreshed.tokens?.accessToken ?? "") });
  });
});

describe("graceful shutdown", () => {
  test("SIGTERM sends GoAway(SERVER_DRAINING), exits 0, and every message is there after restart", async () => {
    const dataDir = tempDataDir();
    const server = await spawnParley({ dataDir });
    const me = await signInOn(server.clients, server.codes, newPhone());
    const token = me.accessToken;
    const peer = await signInOn(server.clients, server.codes, newPhone());
    const { conversation } = await server.clients.conversations.getOrCreateDirect(
      { peerUserId: peer.userId },
      { headers: bearer(token) },
    );
    const id = conversation?.conversationId ?? "";
    const stream = new DeviceStream(server.clients.session, { accessToken: token });
    await stream.caughtUp;
    for (let i = 0; i < 50; i++) await stream.send(textMessage(id, `before shutdown ${i}`));

    const exit = await server.kill("SIGTERM");
    await stream.ended;
    assert.equal(stream.goAway?.reason, GoAwayReason.SERVER_DRAINING);
    assert.equal(exit, 0);
    assert.ok(server.logs.some((l) => l.msg === "parley stopped"));

    const again = await startTestParley({ dataDir });
    const history = await again.clients.messaging.listMessages({ conversationId: id }, { headers: bearer(token) });
    assert.equal(history.events.length, 51);
    await again.stop();
  });
});
