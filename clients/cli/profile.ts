// Stored credentials and cursors, one JSON file per profile in $PARLEY_CLI_HOME (or ~/.parley).
// Several CLI processes may use one profile at once (a `chat` and a `send`), so every write
// re-reads the file and changes only its own fields, and token refresh is serialised by a lock.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliError, usageError } from "./errors.ts";

export interface Profile {
  server: string;
  phoneNumber: string;
  userId: string;
  deviceId: string;
  accessToken: string;
  refreshToken: string;
  /** Highest sequence this device holds per conversation (decimal strings: JSON has no bigint). */
  cursors: Record<string, string>;
}

export const profileHome = (env: NodeJS.ProcessEnv = process.env): string => env.PARLEY_CLI_HOME || join(homedir(), ".parley");

const namePattern = /^[A-Za-z0-9_.-]{1,64}$/;

function isProfile(value: unknown): value is Profile {
  if (typeof value !== "object" || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    ["server", "phoneNumber", "userId", "deviceId", "accessToken", "refreshToken"].every((k) => typeof p[k] === "string") &&
    typeof p.cursors === "object" &&
    p.cursors !== null
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ProfileStore {
  readonly name: string;
  readonly dir: string;
  readonly path: string;

  constructor(dir: string, name: string) {
    if (!namePattern.test(name) || name.startsWith(".")) {
      throw usageError(`profile name "${name}" must be 1..64 characters of [A-Za-z0-9_.-]`);
    }
    this.name = name;
    this.dir = dir;
    this.path = join(dir, `${name}.json`);
  }

  /** The stored profile, or undefined when this profile never signed in. */
  load(): Profile | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CliError(`profile file ${this.path} is not valid JSON; sign in again with login`);
    }
    if (!isProfile(parsed)) throw new CliError(`profile file ${this.path} is incomplete; sign in again with login`);
    return parsed;
  }

  /** The stored profile, or a CliError telling the user to sign in. */
  require(): Profile {
    const profile = this.load();
    if (!profile) {
      const flag = this.name === "default" ? "" : `--profile ${this.name} `;
      throw new CliError(`not signed in (profile "${this.name}"); run: npm run cli -- ${flag}login <phone>`);
    }
    return profile;
  }

  /** Replaces the whole profile (after sign-in). */
  save(profile: Profile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
  }

  /** Re-reads the file, applies a change and writes it back; returns the result. */
  update(change: (profile: Profile) => void): Profile {
    const profile = this.require();
    change(profile);
    this.save(profile);
    return profile;
  }

  /** Raises stored cursors (never lowers them: another process may be further along). */
  saveCursors(cursors: ReadonlyMap<string, bigint>): void {
    if (cursors.size === 0 || !this.load()) return;
    this.update((profile) => {
      for (const [conversationId, sequence] of cursors) {
        const stored = BigInt(profile.cursors[conversationId] ?? "0");
        if (sequence > stored) profile.cursors[conversationId] = sequence.toString();
      }
    });
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }

  /** Runs `task` while holding this profile's lock file (stale locks are broken after 15 s). */
  async withLock<T>(task: () => Promise<T>): Promise<T> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        closeSync(openSync(lockPath, "wx", 0o600));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        try {
          if (Date.now() - statSync(lockPath).mtimeMs > 15_000) rmSync(lockPath, { force: true });
        } catch {
          // The holder released it between our attempts.
        }
        if (Date.now() > deadline) throw new CliError(`profile "${this.name}" is locked by another process (${lockPath})`);
        await sleep(25 + Math.random() * 50);
      }
    }
    try {
      return await task();
    } finally {
      rmSync(lockPath, { force: true });
    }
  }
}

/** Cursors as the session stream wants them. */
export function cursorMap(profile: Profile): Map<string, bigint> {
  const map = new Map<string, bigint>();
  for (const [conversationId, sequence] of Object.entries(profile.cursors)) {
    if (/^[0-9]+$/.test(sequence)) map.set(conversationId, BigInt(sequence));
  }
  return map;
}
