// Signs devices in through the real code flow (RequestCode, the code from the dev-mode log,
// VerifyCode), many at a time. Each phone number is its own user with one device.
import type { Client } from "@connectrpc/connect";
import type { IdentityService } from "../../gen/parley/v1/identity_pb.js";
import { progress } from "../core/progress.ts";
import type { Account } from "./target.ts";

export interface CodeBox {
  codes: Map<string, string>;
  /** Resolves when a code for the number has been logged. */
  wait(phoneNumber: string, timeoutMs?: number): Promise<string>;
  /** Feeds a "dev mode: sign-in code" log entry. */
  add(entry: Record<string, unknown>): void;
}

export function codeBox(): CodeBox {
  const codes = new Map<string, string>();
  const waiters = new Map<string, (code: string) => void>();
  return {
    codes,
    add(entry) {
      const phone = entry.phoneNumber as string;
      const code = entry.code as string;
      codes.set(phone, code);
      waiters.get(phone)?.(code);
      waiters.delete(phone);
    },
    wait(phoneNumber, timeoutMs = 30_000) {
      const known = codes.get(phoneNumber);
      if (known) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(phoneNumber);
          reject(new Error(`no sign-in code logged for ${phoneNumber}`));
        }, timeoutMs);
        waiters.set(phoneNumber, (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
  };
}

export async function signInMany(options: {
  identity: Client<typeof IdentityService>;
  box: CodeBox;
  phones: string[];
  concurrency?: number;
  label: string;
}): Promise<Account[]> {
  const accounts: Account[] = new Array(options.phones.length);
  let next = 0;
  let done = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < options.phones.length) {
      const i = next++;
      const phoneNumber = options.phones[i] as string;
      options.box.codes.delete(phoneNumber);
      const codeLogged = options.box.wait(phoneNumber);
      await options.identity.requestCode({ phoneNumber });
      const code = await codeLogged;
      options.box.codes.delete(phoneNumber);
      const res = await options.identity.verifyCode({ phoneNumber, code, deviceName: "bench device", displayName: `bench ${i}` });
      accounts[i] = { userId: res.userId, deviceId: res.deviceId, accessToken: res.tokens?.accessToken ?? "" };
      if (++done % 2000 === 0) progress("sign-in", { target: options.label, done, of: options.phones.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 32, options.phones.length) }, lane));
  const seconds = (performance.now() - started) / 1000;
  progress("signed-in", { target: options.label, devices: accounts.length, seconds, perSecond: accounts.length / seconds });
  return accounts;
}
