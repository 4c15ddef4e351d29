// The embedded default: no provider credentials, so pushes land in the local outbox, which the
// CLI shows. Also the per-device rate limit: a push refused by it waits, keeps collecting, and
// goes out as one bigger push once the bucket refills.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { bearer } from "../clients/node/transport.ts";
import { PushProvider } from "../gen/parley/v1/push_pb.js";
import { textMessage } from "./helpers/chat.ts";
import { eventuallyAsync, newPhone, type SignedIn } from "./helpers/parley.ts";
import { fcmToken, newFcmToken, type PushParley, register, startPushParley } from "./push/harness.ts";

const root = new URL("../", import.meta.url).pathname;
/** One push, then one token every 3 s. */
const refillMs = 3_000;
const patienceMs = 20_000;

let p: PushParley;
before(async () => {
  p = await startPushParley({
    PARLEY_PUSH_COALESCE_MS: "300",
    PARLEY_PUSH_RATE_BURST: "1",
    PARLEY_PUSH_RATE_PER_MINUTE: String(60_000 / refillMs),
  });
});
after(() => p?.stop());

/** Runs the CLI as `npm run cli -- ...` does, in its own profile home. */
async function cli(home: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ["clients/cli/main.ts", "--server", p.process.url, ...args], {
    cwd: root,
    env: { ...process.env, PARLEY_CLI_HOME: home, NO_COLOR: "1", PARLEY_SERVER: "" },
  });
  return stdout;
}

test("without credentials pushes go to the outbox; the rate limit merges what it holds back; the CLI shows them", async () => {
  const alice = await p.signIn();
  // Bob signs in with the CLI, then his app registers a token for that device.
  const home = mkdtempSync(join(tmpdir(), "parley-push-cli-"));
  const bobPhone = newPhone();
  p.process.codes.delete(bobPhone);
  await p.process.clients.identity.requestCode({ phoneNumber: bobPhone });
  await eventuallyAsync("bob's code", async () => p.process.codes.has(bobPhone));
  await cli(home, "--profile", "bob", "login", bobPhone, "--code", p.process.codes.get(bobPhone) ?? "", "--name", "Bob");
  const profile = JSON.parse(readFileSync(join(home, "bob.json"), "utf8")) as SignedIn;
  const bob = { ...profile, phoneNumber: bobPhone };
  await register(p.push, bob, fcmToken(newFcmToken()));
  const { conversation } = await p.process.clients.conversations.getOrCreateDirect(
    { peerUserId: bob.userId },
    { headers: bearer(alice.accessToken) },
  );
  const id = conversation?.conversationId ?? "";
  const send = (text: string) =>
    p.process.clients.messaging.sendMessage(textMessage(id, text), { headers: bearer(alice.accessToken) });
  const outbox = async () => (await p.push.listPushOutbox({}, { headers: bearer(bob.accessToken) })).entries;

  await send("first");
  await eventuallyAsync("the first push in the outbox", async () => (await outbox()).length === 1, patienceMs);
  // The bucket is empty now: these two wait for the refill and leave as one push.
  await send("second");
  await new Promise((r) => setTimeout(r, 500));
  await send("third");
  await eventuallyAsync("the held-back push", async () => (await outbox()).length === 2, patienceMs);
  const [held, first] = await outbox();
  assert.equal(first?.messageCount, 1);
  assert.equal(first?.body, "first");
  assert.equal(first?.provider, PushProvider.FCM);
  assert.equal(held?.messageCount, 2);
  assert.equal(held?.body, "third (+1 more)");
  assert.equal(held?.deviceId, bob.deviceId);
  const at = (entry: typeof first) => (entry?.createdAt ? timestampMs(entry.createdAt) : Number.NaN);
  const gap = at(held) - at(first);
  assert.ok(gap >= refillMs - 500, `the second push waited for the bucket (${gap} ms)`);
  assert.ok((await p.metric("parley_push_rate_limited_total")) >= 1);

  const shown = await cli(home, "--profile", "bob", "push-outbox");
  const lines = shown.trim().split("\n");
  assert.equal(lines.length, 2, shown);
  assert.match(lines[0] ?? "", /this device\s+fcm\s+2 msg\s+.*: third \(\+1 more\)/);
  assert.match(lines[1] ?? "", /this device\s+fcm\s+1 msg\s+.*: first/);
  assert.equal((await cli(home, "--profile", "bob", "push-outbox", "--limit", "1")).trim().split("\n").length, 1);
});
