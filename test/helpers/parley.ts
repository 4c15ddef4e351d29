// Starts a real Parley server process on port 0, with real gRPC clients, and signs users in.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ParleyClients } from "../../clients/node/transport.ts";
import { spawnParley } from "./process.ts";

export interface SignedIn {
  userId: string;
  deviceId: string;
  accessToken: string;
  refreshToken: string;
  phoneNumber: string;
}

export interface TestParley {
  parley: { url: string };
  clients: ParleyClients;
  inbox: { codes: Map<string, string> };
  dataDir: string;
  signIn(phoneNumber: string, deviceName?: string): Promise<SignedIn>;
  stop(): Promise<void>;
}

export const tempDataDir = () => mkdtempSync(join(tmpdir(), "parley-test-"));

let phoneCounter = 0;
/** A phone number unique within this test process. */
export function newPhone(): string {
  phoneCounter++;
  return `+1555${String(process.pid % 1000).padStart(3, "0")}${String(phoneCounter).padStart(4, "0")}`;
}

/** Starts a real Parley server process on port 0 (dev mode: codes are read from its log). */
export async function startTestParley(options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<TestParley> {
  const dataDir = options.dataDir ?? tempDataDir();
  const child = await spawnParley({ dataDir, env: options.env });
  return testParley(child.url, child.clients, child.codes, dataDir, async () => {
    await child.kill("SIGTERM");
  });
}

function testParley(
  url: string,
  clients: ParleyClients,
  codes: Map<string, string>,
  dataDir: string,
  stop: () => Promise<void>,
): TestParley {
  return {
    parley: { url },
    clients,
    inbox: { codes },
    dataDir,
    signIn: (phoneNumber, deviceName) => signInOn(clients, codes, phoneNumber, deviceName),
    stop,
  };
}

/** Signs a new device in through the real RPCs, reading the code from `codes` (the server's log or inbox). */
export async function signInOn(
  clients: ParleyClients,
  codes: Map<string, string>,
  phoneNumber: string,
  deviceName = "test device",
): Promise<SignedIn> {
  codes.delete(phoneNumber);
  await clients.identity.requestCode({ phoneNumber });
  await eventually(`code for ${phoneNumber}`, () => codes.has(phoneNumber), 5_000);
  const res = await clients.identity.verifyCode({ phoneNumber, code: codes.get(phoneNumber) ?? "", deviceName });
  return {
    userId: res.userId,
    deviceId: res.deviceId,
    accessToken: res.tokens?.accessToken ?? "",
    refreshToken: res.tokens?.refreshToken ?? "",
    phoneNumber,
  };
}

/** Polls until check() is true, failing with `what` after timeoutMs. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Like eventually, for checks that need a round trip. */
export async function eventuallyAsync(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
