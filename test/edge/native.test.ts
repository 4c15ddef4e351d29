// A native client generated from the same protos in another language: the Python client
// (clients/python/parley_chat.py, stubs from scripts/edge/python-client.sh) and the TypeScript
// DeviceStream chat in one conversation through Envoy (TLS 1.3 only) and see one order.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { bearer } from "../../clients/node/transport.ts";
import { edgeRunDir } from "../../scripts/edge/render.ts";
import { textMessage, textOf } from "../helpers/chat.ts";
import { eventually, newPhone, signInOn, tempDataDir } from "../helpers/parley.ts";
import { type ParleyProcess, spawnParley } from "../helpers/process.ts";
import { type Envoy, startEnvoy } from "./envoy.ts";
import { PythonChat, pyEnv, python, script } from "./python-chat.ts";

const cacert = join(edgeRunDir(), "ca.pem");
const env = pyEnv;

describe("a native Python client through the edge", () => {
  let parley: ParleyProcess;
  let edge: Envoy;
  before(async () => {
    assert.ok(existsSync(python), `run scripts/edge/python-client.sh first (${python} is missing)`);
    parley = await spawnParley({ dataDir: tempDataDir() });
    edge = await startEnvoy({ name: "native", grpcPort: parley.port, wsPort: parley.wsPort });
  });
  after(async () => {
    await edge?.stop();
    await parley?.kill("SIGTERM");
  });

  test("Python (grpcio) and TypeScript clients chat through Envoy over TLS 1.3 and see one order", async () => {
    const target = ["--target", `127.0.0.1:${edge.port}`, "--ca", cacert];
    const phone = newPhone();
    // Sign-in: the Python client asks for the code, the test reads it from Parley's dev log and
    // passes it in.
    await promisify(execFile)(python, [script, "request-code", ...target, "--phone", phone], { env });
    await eventually(`code for ${phone}`, () => parley.codes.has(phone), 5_000);
    const py = new PythonChat(["chat", ...target, "--phone", phone, "--code", parley.codes.get(phone) ?? ""]);
    const alice = await signInOn(edge.clients, parley.codes, newPhone(), "alice (TypeScript)");
    const ts = new DeviceStream(edge.clients.session, { accessToken: alice.accessToken });
    try {
      const pyUser = String((await py.line("signed_in")).user_id);
      const { conversation } = await edge.clients.conversations.getOrCreateDirect(
        { peerUserId: pyUser },
        { headers: bearer(alice.accessToken) },
      );
      const id = conversation?.conversationId ?? "";
      await Promise.all([ts.caughtUp, py.line("caught_up")]);

      // Sequence 1 is the conversation's creation, then 10 messages from each side, interleaved.
      py.tell({ send: { conversation_id: id, count: 10, prefix: "python" } });
      py.tell({ until: { conversation_id: id, sequence: 21 } });
      const sends = Array.from({ length: 10 }, (_, i) => ts.send(textMessage(id, `typescript ${i}`)));
      const results = await Promise.all(sends);
      assert.ok(results.every((r) => r.outcome.case === "sent"));

      assert.equal(await py.exited, 0, `python client exit\n${py.stderr.join("")}`);
      await eventually("TypeScript holds all 21 events", () => ts.events.filter((e) => e.conversationId === id).length === 21);
      const tsOrder = ts.events.filter((e) => e.conversationId === id).map((e) => `${e.sequence}:${textOf(e)}`);
      const pyEvents = py.lines.filter((l) => l.type === "event" && l.conversation_id === id);
      const pyOrder = pyEvents.map((l) => `${l.sequence}:${l.text}`);
      assert.deepEqual(pyOrder, tsOrder);
      assert.deepEqual(
        pyEvents.map((l) => l.sequence),
        Array.from({ length: 21 }, (_, i) => i + 1),
      );
      const texts = pyEvents.map((l) => String(l.text));
      for (let i = 0; i < 10; i++) assert.ok(texts.includes(`python ${i}`) && texts.includes(`typescript ${i}`));
      const pySent = py.lines.filter((l) => l.type === "sent");
      assert.deepEqual(
        pySent.map((l) => l.client_message_id),
        Array.from({ length: 10 }, (_, i) => `python-${i}`),
      );
      // Senders as both sides name them.
      const senders = new Map(ts.events.filter((e) => e.conversationId === id).map((e) => [e.sequence, e.senderUserId]));
      for (const l of pyEvents) assert.equal(l.sender, senders.get(BigInt(l.sequence as number)));
      assert.ok(pyEvents.some((l) => l.sender === pyUser && l.text === "python 0"));
      assert.ok(pyEvents.some((l) => l.sender === alice.userId && l.text === "typescript 0"));
    } finally {
      py.kill();
      ts.close();
      await ts.ended;
    }
  });
});
