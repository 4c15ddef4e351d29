// `npm run cli -- link`: a signed-in profile makes a link token and a second profile becomes a
// new device of the same account with it, then sees itself in `devices`.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { newPhone, startTestParley, type TestParley } from "./helpers/parley.ts";

const root = new URL("../", import.meta.url).pathname;
let t: TestParley;
let home: string;
before(async () => {
  t = await startTestParley();
  home = mkdtempSync(join(tmpdir(), "parley-cli-link-"));
});
after(() => t.stop());

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["clients/cli/main.ts", "--server", t.parley.url, ...args],
      {
        cwd: root,
        env: { ...process.env, PARLEY_CLI_HOME: home, NO_COLOR: "1", PARLEY_SERVER: "" },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test("link makes a token on one profile and signs a second profile in with it, once", async () => {
  const phone = newPhone();
  const signedIn = await t.signIn(phone);
  t.inbox.codes.delete(phone);
  await t.clients.identity.requestCode({ phoneNumber: phone });
  while (!t.inbox.codes.has(phone)) await new Promise((r) => setTimeout(r, 10));
  assert.equal((await cli("--profile", "phone", "login", phone, "--code", t.inbox.codes.get(phone) ?? "")).code, 0);

  const made = await cli("--profile", "phone", "link", "--history", "from-link");
  assert.equal(made.code, 0, made.stderr);
  const token = made.stdout.split("\n")[0] ?? "";
  assert.match(made.stdout, /history: from the link on/);
  // The printed command takes the token as "--token=…": base64url tokens may begin with "-".
  assert.ok(made.stdout.includes(`link --token=${token} --phone ${phone}`), made.stdout);

  const linked = await cli("--profile", "laptop", "link", `--token=${token}`, "--phone", phone, "--device", "laptop");
  assert.equal(linked.code, 0, linked.stderr);
  assert.match(linked.stdout, new RegExp(`linked: user ${signedIn.userId}`));
  const devices = await cli("--profile", "laptop", "devices");
  assert.match(devices.stdout, /laptop {2}\(this device\)/);

  const again = await cli("--profile", "tablet", "link", `--token=${token}`);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already used/);
  assert.equal((await cli("--profile", "phone", "link", "--history", "some")).code, 2);
  // A token that begins with "-" reaches the server (and is refused there), not the option parser.
  const dashed = await cli("--profile", "tablet", "link", "--token=-not-a-real-token");
  assert.equal(dashed.code, 1, dashed.stderr);
  assert.doesNotMatch(dashed.stderr, /ambiguous/);
});
