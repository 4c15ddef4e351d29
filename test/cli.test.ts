// The command-line client end to end: a real server, and the CLI run as child processes exactly
// as `npm run cli -- ...` runs it, with two profiles chatting through `chat` and `send`.
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import { eventually, newPhone, startTestParley, type TestParley } from "./helpers/parley.ts";

const root = new URL("../", import.meta.url).pathname;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Only a bound on how long a broken test may hang, never an assertion about speed. */
const patienceMs = 30_000;

let t: TestParley;
let home: string;
before(async () => {
  t = await startTestParley();
  home = mkdtempSync(join(tmpdir(), "parley-cli-"));
});
after(() => t.stop());

/** A CLI process whose output is collected as it arrives. */
class Cli {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = "";
  stderr = "";
  readonly exited: Promise<number>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ["clients/cli/main.ts", "--server", t.parley.url, ...args], {
      cwd: root,
      env: { ...process.env, PARLEY_CLI_HOME: home, NO_COLOR: "1", PARLEY_SERVER: "" },
    });
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.child.once("close", (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  }

  /** Waits until stdout (or stderr) contains the text. */
  async waitFor(text: string | RegExp, stream: "stdout" | "stderr" = "stdout"): Promise<void> {
    const seen = () => (typeof text === "string" ? this[stream].includes(text) : text.test(this[stream]));
    await eventually(`${stream} to show ${text}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`, seen, patienceMs);
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Ends stdin (Ctrl-D) and returns the exit code. */
  async end(): Promise<number> {
    this.child.stdin.end();
    return this.exited;
  }
}

/** Runs a command to completion. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = new Cli(args);
  run.child.stdin.end();
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

async function ok(...args: string[]): Promise<string> {
  const result = await cli(...args);
  assert.equal(result.code, 0, `${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout.trim();
}

async function codeFor(phoneNumber: string): Promise<string> {
  await eventually("the sign-in code", () => t.inbox.codes.has(phoneNumber), patienceMs);
  const code = t.inbox.codes.get(phoneNumber) ?? "";
  t.inbox.codes.delete(phoneNumber);
  return code;
}

/** Signs a profile in with --code (the code is requested first, as another device would). */
async function loginWithCode(profile: string, phoneNumber: string, name: string): Promise<void> {
  t.inbox.codes.delete(phoneNumber);
  await t.clients.identity.requestCode({ phoneNumber });
  await ok("--profile", profile, "login", phoneNumber, "--code", await codeFor(phoneNumber), "--name", name);
}

const profileFile = (profile: string) => JSON.parse(readFileSync(join(home, `${profile}.json`), "utf8"));

describe("cli", () => {
  const alicePhone = newPhone();
  const bobPhone = newPhone();
  let conversationId = "";

  test("login: with --code, and with the code typed at the prompt", async () => {
    await loginWithCode("alice", alicePhone, "Alice");
    t.inbox.codes.delete(bobPhone);
    const login = new Cli(["--profile", "bob", "login", bobPhone, "--name", "Bob"]);
    await login.waitFor("code:", "stderr");
    login.type(await codeFor(bobPhone));
    assert.equal(await login.end(), 0, login.stderr);
    assert.match(login.stdout, /signed in as/);

    const bob = profileFile("bob");
    assert.equal(bob.phoneNumber, bobPhone);
    assert.match(bob.userId, uuid);
    assert.match(bob.deviceId, uuid);
    assert.ok(bob.accessToken && bob.refreshToken);
    assert.match(await ok("--profile", "bob", "whoami"), /Bob/);
    assert.match(await ok("--profile", "alice", "devices"), /\(this device\)/);
  });

  test("dm finds the same conversation from both sides", async () => {
    conversationId = await ok("--profile", "alice", "dm", bobPhone);
    assert.match(conversationId, uuid);
    assert.equal(await ok("--profile", "bob", "dm", alicePhone), conversationId);
  });

  test("chat shows a message sent with send, and lines typed into another chat", async () => {
    const bobChat = new Cli(["--profile", "bob", "chat", conversationId]);
    await bobChat.waitFor("caught up");

    const sequence = await ok("--profile", "alice", "send", conversationId, "hello", "from", "send");
    assert.match(sequence, /^[0-9]+$/);
    await bobChat.waitFor(`[#${sequence} `);
    await bobChat.waitFor("Alice: hello from send");

    const aliceChat = new Cli(["--profile", "alice", "chat", conversationId]);
    await aliceChat.waitFor("caught up");
    aliceChat.type("typed into chat");
    await bobChat.waitFor("Alice: typed into chat");
    // Bob's chat shows it, so it is delivered and marked read; Alice sees that.
    await aliceChat.waitFor(/#[0-9]+ read ✓✓/);

    bobChat.type("bob answers");
    await aliceChat.waitFor("Bob: bob answers");

    assert.equal(await aliceChat.end(), 0, aliceChat.stderr);
    assert.equal(await bobChat.end(), 0, bobChat.stderr);
    assert.doesNotMatch(bobChat.stderr + aliceChat.stderr, /error/);

    // The cursors were saved: the next chat does not replay what was already shown.
    assert.ok(BigInt(profileFile("bob").cursors[conversationId]) >= 3n);
  });

  test("list and history show the conversation", async () => {
    const list = await ok("--profile", "alice", "list");
    assert.match(list, new RegExp(`${conversationId}.*with Bob`));
    const history = await ok("--profile", "bob", "history", conversationId, "--limit", "2");
    assert.match(history, /Alice: typed into chat/);
    assert.match(history, /Bob: bob answers/);
    assert.doesNotMatch(history, /hello from send/);
  });

  test("group creates a conversation both members can send to", async () => {
    const groupId = await ok("--profile", "alice", "group", "Lunch", bobPhone);
    assert.match(groupId, uuid);
    await ok("--profile", "bob", "send", groupId, "count me in");
    assert.match(await ok("--profile", "alice", "history", groupId), /Bob: count me in/);
    assert.match(await ok("--profile", "bob", "list"), /Lunch/);
  });

  test("errors are one line with the code and reason, and exit 1", async () => {
    const malformed = await cli("--profile", "alice", "send", "not-a-conversation-id", "hi");
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /^error: INVALID_ARGUMENT MALFORMED_ID: /);
    assert.doesNotMatch(malformed.stderr, /\n\s+at /); // no stack trace

    const stranger = await cli("--profile", "alice", "dm", newPhone());
    assert.equal(stranger.code, 1);
    assert.match(stranger.stderr, /^error: NOT_FOUND USER_NOT_FOUND: /);

    const signedOut = await cli("--profile", "nobody", "list");
    assert.equal(signedOut.code, 1);
    assert.match(signedOut.stderr, /not signed in/);

    const usage = await cli("frobnicate");
    assert.equal(usage.code, 2);
    assert.match((await cli("--help")).stdout, /chat <conversation>/);
  });

  test("an expired access token is refreshed and the call retried, for calls and for the stream", async () => {
    // An access token signed with the server's key that expired a minute ago.
    const secret = readFileSync(join(t.dataDir, "token-secret"));
    const expire = async () => {
      const profile = profileFile("alice");
      const past = Math.floor(Date.now() / 1000) - 60;
      profile.accessToken = await new SignJWT({ did: profile.deviceId })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(profile.userId)
        .setIssuedAt(past - 60)
        .setExpirationTime(past)
        .setIssuer("parley")
        .sign(secret);
      writeFileSync(join(home, "alice.json"), JSON.stringify(profile));
      return profile;
    };

    const expired = await expire();
    assert.match(await ok("--profile", "alice", "list"), new RegExp(conversationId));
    const refreshed = profileFile("alice");
    assert.notEqual(refreshed.accessToken, expired.accessToken);
    assert.notEqual(refreshed.refreshToken, expired.refreshToken);

    // follow opens the stream before any other call: the stream itself meets the expired token.
    const expiredAgain = await expire();
    const follow = new Cli(["--profile", "alice", "follow"]);
    await follow.waitFor("caught up");
    follow.child.kill("SIGINT");
    assert.equal(await follow.exited, 0, follow.stderr);
    assert.notEqual(profileFile("alice").accessToken, expiredAgain.accessToken);
  });
});
