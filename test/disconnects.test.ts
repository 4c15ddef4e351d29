// Acceptance f: 200 abrupt client disconnects in the middle of streams never crash or wedge the server.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer, createParleyClients } from "../clients/node/transport.ts";
import { HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { CursorSchema } from "../gen/parley/v1/events_pb.js";
import { range, sequencesIn, textMessage } from "./helpers/chat.ts";
import { eventuallyAsync, newPhone, signInOn, tempDataDir } from "./helpers/parley.ts";
import { type ParleyProcess, spawnParley } from "./helpers/process.ts";

let server: ParleyProcess;
before(async () => {
  server = await spawnParley({ dataDir: tempDataDir() });
});
after(() => server.kill("SIGTERM"));

async function signIn(phoneNumber: string) {
  const user = await signInOn(server.clients, server.codes, phoneNumber);
  return { userId: user.userId, token: user.accessToken };
}

async function openStreams(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  return Number(/^parley_open_streams (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

test("200 abrupt disconnects mid-stream leave the server serving everyone else", async () => {
  const users = await Promise.all(Array.from({ length: 10 }, () => signIn(newPhone())));
  const watcher = await signIn(newPhone());
  const owner = users[0] as { userId: string; token: string };
  const { conversation } = await server.clients.conversations.createGroup(
    { name: "churn", memberUserIds: [...users.slice(1), watcher].map((u) => u.userId), clientRequestId: "churn" },
    { headers: bearer(owner.token) },
  );
  const id = conversation?.conversationId ?? "";
  for (let i = 0; i < 300; i++)
    await server.clients.messaging.sendMessage(textMessage(id, `history ${i}`), { headers: bearer(owner.token) });

  // A steady observer, on a device of its own, that must keep receiving throughout.
  const observer = new DeviceStream(server.clients.session, {
    accessToken: watcher.token,
    cursors: [create(CursorSchema, { conversationId: id, sequence: 301n })],
  });
  await observer.caughtUp;

  const moments = ["at once", "after ready", "mid-replay", "mid-send", "after a socket-level reset"];
  let aborted = 0;
  for (let round = 0; round < 40; round++) {
    // Each round drops five streams, each at a different moment, over its own connection.
    await Promise.all(
      moments.map(async (moment, i) => {
        const user = users[(round + i) % users.length] as { token: string };
        const clients = createParleyClients(server.url);
        const stream = new DeviceStream(clients.session, {
          accessToken: user.token,
          window: 8,
          autoAck: moment !== "mid-replay",
        });
        if (moment === "after ready") await stream.ready;
        if (moment === "mid-replay") await new Promise<void>((resolve) => setTimeout(resolve, round % 7));
        if (moment === "mid-send") {
          void stream.send(textMessage(id, `from a doomed stream ${round}`)).catch(() => {});
          void stream.send(textMessage(id, `another ${round}`)).catch(() => {});
        }
        if (moment === "after a socket-level reset") {
          // Half an HTTP/2 preface, then the socket is destroyed.
          const socket = connect(server.port, "127.0.0.1");
          socket.on("error", () => {});
          await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
          socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n");
          socket.destroy();
        }
        stream.abort();
        await stream.ended;
        aborted++;
      }),
    );
  }
  assert.equal(aborted, 200);

  assert.equal((await server.clients.health.check({})).status, HealthCheckResponse_ServingStatus.SERVING);
  await eventuallyAsync("aborted streams are released", async () => (await openStreams()) === 1);

  // Still delivering: a new message reaches the observer and a fresh device replays everything.
  const sent = await server.clients.messaging.sendMessage(textMessage(id, "still here"), { headers: bearer(owner.token) });
  await eventuallyAsync("observer gets it", async () => observer.cursors.get(id) === sent.sequence);
  const replay = new DeviceStream(server.clients.session, { accessToken: owner.token });
  await replay.caughtUp;
  assert.deepEqual(sequencesIn(replay.events, id), range(1n, sent.sequence));
  replay.close();
  observer.close();

  assert.equal(server.child.exitCode, null, "the server process is still running");
  const bad = server.logs.filter((l) => l.level === "error" || String(l.msg).includes("unhandled"));
  assert.deepEqual(bad, [], "no errors or unhandled rejections were logged");
});
