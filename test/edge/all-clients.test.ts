// Issue 4, acceptance (a): four kinds of client chat in ONE group conversation through Envoy over
// TLS 1.3 and all see the same order: a @grpc/grpc-js client (test/edge/grpc-js-client.ts), the
// web client (clients/web) in headless Chromium, a WebSocket client (clients/node/ws-stream.ts)
// and the native Python client (clients/python/parley_chat.py). The grpc-js user creates the group.
// Run: npm run test:edge (installs the Python client and builds the web client first), or after
// that, npx node --test test/edge/all-clients.test.ts
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import tls from "node:tls";
import { promisify } from "node:util";
import { openWsDeviceStream } from "../../clients/node/ws-stream.ts";
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";
import { edgeRunDir } from "../../scripts/edge/render.ts";
import { textMessage, textOf } from "../helpers/chat.ts";
import { eventually, eventuallyAsync, newPhone, signInOn } from "../helpers/parley.ts";
import type { ParleyProcess } from "../helpers/process.ts";
import { type Browser, shots, startWebStack, type WebStack } from "./browser.ts";
import { devCa, type Envoy } from "./envoy.ts";
import { GrpcJsParley } from "./grpc-js-client.ts";
import { PythonChat, pyEnv, python, script } from "./python-chat.ts";

const TIMEOUT = 15_000;
const PER_CLIENT = 3;
const GROUP = "Four clients";
const ca = devCa();
// clients/node/ws-stream.ts takes no TLS options: the WebSocket client trusts the dev CA through
// the process-wide default CA list (as in edge.test.ts).
tls.setDefaultCACertificates([...tls.getCACertificates("default"), ca.toString()]);

/** The rendered message list: "sequence:text" for every stored message (pending ones have no sequence). */
const RENDERED_MESSAGES = `[...document.querySelectorAll("#messages li.message[data-sequence]")]
  .map((li) => li.dataset.sequence + ":" + (li.querySelector(".text")?.textContent ?? ""))`;

// ---- the test ----

let parley: ParleyProcess;
let edge: Envoy;
let siteOrigin: string;
let browser: Browser;

let stack: WebStack | undefined;
before(async () => {
  assert.ok(existsSync(python), `run scripts/edge/python-client.sh first (${python} is missing)`);
  stack = await startWebStack("all-clients");
  ({ parley, edge, siteOrigin, browser } = stack);
});

after(() => stack?.stop());

const messagesOf = (events: ConversationEvent[], id: string) =>
  events.filter((e) => e.conversationId === id && e.body.case === "message").map((e) => `${e.sequence}:${textOf(e)}`);
const allOf = (events: ConversationEvent[], id: string) =>
  events.filter((e) => e.conversationId === id).map((e) => `${e.sequence}:${textOf(e)}`);

test("grpc-js, web (Chromium), WebSocket and Python clients chat in one group through the edge and see one order", async () => {
  const target = ["--target", `127.0.0.1:${edge.port}`, "--ca", join(edgeRunDir(), "ca.pem")];

  // 1. grpc-js: sign in over grpc-js unary calls (the code comes from Parley's dev log).
  const grpcJs = new GrpcJsParley(`127.0.0.1:${edge.port}`, ca);
  const grpcPhone = newPhone();
  await grpcJs.requestCode(grpcPhone);
  await eventually(`code for ${grpcPhone}`, () => parley.codes.has(grpcPhone), TIMEOUT);
  const grpcUser = await grpcJs.verifyCode(grpcPhone, parley.codes.get(grpcPhone) ?? "", "grpc-js client");
  const grpcToken = grpcUser.tokens?.accessToken ?? "";

  // 2. WebSocket: signed in with the Connect gRPC client, the stream is a WebSocket.
  const wsPhone = newPhone();
  const wsUser = await signInOn(edge.clients, parley.codes, wsPhone, "WebSocket client");

  // 3. Python: request-code, then chat with the code from the log.
  const pyPhone = newPhone();
  await promisify(execFile)(python, [script, "request-code", ...target, "--phone", pyPhone], { env: pyEnv });
  await eventually(`code for ${pyPhone}`, () => parley.codes.has(pyPhone), TIMEOUT);
  const py = new PythonChat(["chat", ...target, "--phone", pyPhone, "--code", parley.codes.get(pyPhone) ?? ""]);

  // 4. Web: sign in in Chromium.
  const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[web page error] ${error}`));
  await page.goto(`${siteOrigin}/?edge=${encodeURIComponent(edge.url)}`);
  const webPhone = newPhone();
  await page.locator("#request-code input[name=phone]").fill(webPhone);
  await page.locator("#request-code input[name=name]").fill("Web");
  await page.locator("#request-code button").click();
  await eventually(`code for ${webPhone}`, () => parley.codes.has(webPhone), TIMEOUT);
  await page.locator("#verify-code input[name=code]").fill(parley.codes.get(webPhone) ?? "");
  await page.locator("#verify-code button").click();
  await page.locator("#connection[data-state=live]").waitFor({ timeout: TIMEOUT });

  const grpcStream = grpcJs.connect(grpcToken);
  const ws = openWsDeviceStream(`wss://127.0.0.1:${edge.port}/v1/session`, { accessToken: wsUser.accessToken });
  try {
    const pyUser = String((await py.line("signed_in")).user_id);
    await Promise.all([grpcStream.caughtUp, ws.caughtUp, py.line("caught_up")]);

    // The grpc-js user finds the web user by number and creates the group of four.
    const { users } = await grpcJs.lookupUsers([webPhone], grpcToken);
    const webUser = users[0]?.userId ?? "";
    assert.ok(webUser, "the web user is found by number");
    const { conversation } = await grpcJs.createGroup(GROUP, [wsUser.userId, pyUser, webUser], randomUUID(), grpcToken);
    const id = conversation?.conversationId ?? "";
    assert.ok(id);
    assert.equal(conversation?.members.length, 4);

    // The web user opens the group from the conversation list once it has arrived on its stream.
    await page.locator("#conversations li", { hasText: GROUP }).click();
    await page.locator("#chat-title", { hasText: GROUP }).waitFor({ timeout: TIMEOUT });

    // Everyone sends PER_CLIENT messages, all at once.
    py.tell({ send: { conversation_id: id, count: PER_CLIENT, prefix: "python" } });
    const grpcSends = Array.from({ length: PER_CLIENT }, (_, i) => grpcStream.send(id, `grpc-js ${i}`, `grpc-js-${i}`));
    const wsSends = Array.from({ length: PER_CLIENT }, (_, i) => ws.send(textMessage(id, `websocket ${i}`)));
    for (let i = 0; i < PER_CLIENT; i++) {
      await page.locator("#composer input[name=text]").fill(`web ${i}`);
      await page.locator("#composer button").click();
    }
    const results = await Promise.all([...grpcSends, ...wsSends]);
    assert.ok(results.every((r) => r.outcome.case === "sent"));

    // Wait until each client holds all the messages, then let the Python client leave.
    const total = 4 * PER_CLIENT;
    await eventually("grpc-js holds every message", () => messagesOf(grpcStream.events, id).length === total, TIMEOUT);
    const last = grpcStream.events.filter((e) => e.conversationId === id).at(-1)?.sequence ?? 0n;
    py.tell({ until: { conversation_id: id, sequence: Number(last) } });
    await eventually("the WebSocket client holds every event", () => (ws.cursors.get(id) ?? 0n) >= last, TIMEOUT);
    assert.equal(await py.exited, 0, `python client exit\n${py.stderr.join("")}`);
    const rendered = page.locator("#messages li.message[data-sequence]");
    await eventuallyAsync("the page renders every message", async () => (await rendered.count()) === total, TIMEOUT);
    await page.screenshot({ path: join(shots, "all-clients-group.png") });

    // One order: (sequence, text) per client.
    const grpcOrder = messagesOf(grpcStream.events, id);
    const wsOrder = messagesOf(ws.events, id);
    const pyEvents = py.lines.filter((l) => l.type === "event" && l.conversation_id === id);
    const pyOrder = pyEvents.filter((l) => l.text !== "").map((l) => `${l.sequence}:${l.text}`);
    const webOrder = (await page.evaluate(RENDERED_MESSAGES)) as string[];
    assert.equal(grpcOrder.length, total);
    assert.deepEqual(wsOrder, grpcOrder, "WebSocket vs grpc-js");
    assert.deepEqual(pyOrder, grpcOrder, "Python vs grpc-js");
    assert.deepEqual(webOrder, grpcOrder, "web vs grpc-js");
    // The three stream clients also agree on the whole conversation, including its creation event,
    // and its sequences have no gaps.
    const everything = allOf(grpcStream.events, id);
    assert.deepEqual(allOf(ws.events, id), everything);
    assert.deepEqual(
      pyEvents.map((l) => `${l.sequence}:${l.text}`),
      everything,
    );
    assert.deepEqual(
      everything.map((s) => Number(s.split(":")[0])),
      Array.from({ length: everything.length }, (_, i) => i + 1),
    );
    const texts = grpcOrder.map((s) => s.slice(s.indexOf(":") + 1));
    for (const prefix of ["grpc-js", "websocket", "python", "web"]) {
      for (let i = 0; i < PER_CLIENT; i++) assert.ok(texts.includes(`${prefix} ${i}`), `${prefix} ${i} is in the group`);
    }
    assert.equal(await page.locator("#error").textContent(), "");
  } finally {
    py.kill();
    grpcStream.close();
    ws.close();
    await Promise.all([grpcStream.ended, ws.ended]);
    grpcJs.close();
  }
});
