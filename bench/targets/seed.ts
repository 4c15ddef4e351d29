// Signed-in devices for the embedded server, cached across runs in bench/.cache. Signing 19,000
// devices in through the code flow takes about a minute on two cores, so the bench does it once:
// it keeps the data directory those sign-ins produced (users, devices, refresh-token hashes and
// the token key) and the access tokens, and each scenario starts its server on a fresh copy.
// The seed server issues access tokens that live 7 days (PARLEY_ACCESS_TOKEN_TTL_MS, an ordinary
// setting); the cache is rebuilt when they come within a day of expiry or when the identity or
// storage code changes (its hash is the cache key). No server code is bypassed.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createParleyClients } from "../../clients/node/transport.ts";
import { stopChild } from "../core/processes.ts";
import { progress } from "../core/progress.ts";
import { codeBox, signInMany } from "./sign-in.ts";
import { repoRoot, serverRoot, spawnServer } from "./spawn-server.ts";
import type { Account } from "./target.ts";

export const seedTokenTtlMs = 7 * 24 * 3600_000;
const cacheRoot = join(repoRoot, "bench/.cache/embedded-seed");

interface SeedFile {
  key: string;
  /** Earliest expiry of the cached access tokens (ms since epoch). */
  expiresAt: number;
  signInPerSecond: number;
  accounts: Account[];
}

export interface Seed {
  /** A fresh copy of the seeded data directory for one server. */
  dataDir: string;
  accounts: Account[];
  signInPerSecond: number;
}

/** Phone number of the i-th bench account. */
export const benchPhone = (i: number) => `+1999${String(i).padStart(7, "0")}`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

/** Changes to identity or storage code (schema, tokens) invalidate the cache. */
function codeKey(): string {
  const hash = createHash("sha256");
  for (const dir of ["services/identity", "services/storage"]) {
    for (const file of filesUnder(join(serverRoot(), dir)))
      hash.update(file.slice(serverRoot().length)).update(readFileSync(file));
  }
  return hash.digest("hex").slice(0, 16);
}

function readSeed(key: string): SeedFile | undefined {
  const path = join(cacheRoot, "accounts.json");
  if (!existsSync(path)) return undefined;
  const seed = JSON.parse(readFileSync(path, "utf8")) as SeedFile;
  return seed.key === key && seed.expiresAt > Date.now() + 24 * 3600_000 ? seed : undefined;
}

/** Makes sure at least n accounts are cached, signing in the missing ones on a seed server. */
async function extendSeed(n: number, key: string, cached: SeedFile | undefined): Promise<SeedFile> {
  const dataDir = join(cacheRoot, "data");
  if (!cached) {
    rmSync(cacheRoot, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
  }
  const have = cached?.accounts.length ?? 0;
  progress("seed", { have, want: n, dir: cacheRoot });
  const box = codeBox();
  const server = await spawnServer({
    name: "seed-server",
    entry: "services/all-in-one/main.ts",
    env: seedEnv(dataDir),
    watch: [{ contains: '"dev mode: sign-in code"', onLine: (entry) => box.add(entry) }],
  });
  try {
    const clients = createParleyClients(`http://127.0.0.1:${server.listening.port}`);
    const phones = Array.from({ length: n - have }, (_, i) => benchPhone(have + i));
    const started = performance.now();
    const added = await signInMany({ identity: clients.identity, box, phones, label: "seed" });
    const signInPerSecond = added.length / ((performance.now() - started) / 1000);
    const seed: SeedFile = {
      key,
      expiresAt: Math.min(cached?.expiresAt ?? Number.POSITIVE_INFINITY, Date.now() + seedTokenTtlMs),
      signInPerSecond: cached && cached.accounts.length > added.length ? cached.signInPerSecond : signInPerSecond,
      accounts: [...(cached?.accounts ?? []), ...added],
    };
    await stopChild(server.child);
    writeFileSync(join(cacheRoot, "accounts.json"), JSON.stringify(seed));
    return seed;
  } finally {
    await stopChild(server.child);
  }
}

export function seedEnv(dataDir: string): Record<string, string> {
  return {
    PARLEY_DATA_DIR: dataDir,
    PARLEY_PORT: "0",
    PARLEY_WS_PORT: "0",
    PARLEY_METRICS_PORT: "0",
    PARLEY_ACCESS_TOKEN_TTL_MS: String(seedTokenTtlMs),
  };
}

/** n accounts and a private copy of the data directory they live in. */
export async function embeddedSeed(n: number): Promise<Seed> {
  const key = codeKey();
  let seed = readSeed(key);
  if (!seed || seed.accounts.length < n) seed = await extendSeed(n, key, seed);
  const dataDir = mkdtempSync(join(tmpdir(), "parley-bench-"));
  cpSync(join(cacheRoot, "data"), dataDir, { recursive: true });
  return { dataDir, accounts: seed.accounts.slice(0, n), signInPerSecond: seed.signInPerSecond };
}
