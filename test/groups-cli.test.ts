// The group-administration commands of the CLI (`invite`, `join`, `admin`) against a real server,
// run as child processes exactly as `npm run cli -- ...` runs them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { eventually, newPhone, startTestParley, type TestParley } from "./helpers/parley.ts";

const root = new URL("../", import.meta.url).pathname;

let t: TestParley;
let home: string;
before(async () => {
  t = await startTestParley();
  home = mkdtempSync(join(tmpdir(), "parley-cli-groups-"));
});
after(() => t.stop());

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["clients/cli/main.ts", "--server", t.parley.url, ...args], {
    cwd: root,
    env: { ...process.env, PARLEY_CLI_HOME: home, NO_COLOR: "1", PARLEY_SERVER: "" },
  });
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code: code ?? -1, stdout: stdout.trim(), stderr })));
}

async function ok(...args: string[]): Promise<string> {
  const result = await cli(...args);
  assert.equal(result.code, 0, `${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout;
}

async function login(profile: string, phoneNumber: string) {
  t.inbox.codes.delete(phoneNumber);
  await t.clients.identity.requestCode({ phoneNumber });
  await eventually("the sign-in code", () => t.inbox.codes.has(phoneNumber));
  await ok("--profile", profile, "login", phoneNumber, "--code", t.inbox.codes.get(phoneNumber) ?? "", "--name", profile);
}

test("invite, join, promote, refuse acting on the owner, ban", async () => {
  const [alicePhone, bobPhone, carolPhone] = [newPhone(), newPhone(), newPhone()];
  for (const [profile, phone] of [
    ["alice", alicePhone],
    ["bob", bobPhone],
    ["carol", carolPhone],
  ] as const) {
    await login(profile, phone);
  }
  const groupId = await ok("--profile", "alice", "group", "climbing", carolPhone);
  const code = await ok("--profile", "alice", "invite", groupId, "--max-uses", "1", "--expires-in", "60");
  assert.match(code, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(await ok("--profile", "bob", "join", code), groupId);
  assert.match(await ok("--profile", "alice", "admin", groupId, "promote", bobPhone), /^[0-9]+$/);
  assert.equal(await ok("--profile", "alice", "admin", groupId, "promote", bobPhone), "no change");
  const refused = await cli("--profile", "bob", "admin", groupId, "remove", alicePhone);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: PERMISSION_DENIED TARGET_IS_OWNER: /);
  assert.match(await ok("--profile", "bob", "admin", groupId, "ban", carolPhone), /^[0-9]+$/);
  const banned = await cli("--profile", "carol", "join", code);
  assert.equal(banned.code, 1);
  assert.match(banned.stderr, /^error: FAILED_PRECONDITION USER_BANNED: /);
  const unknown = await cli("--profile", "alice", "admin", groupId, "crown", bobPhone);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unknown action "crown"/);
});
