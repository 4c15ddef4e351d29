// What every scenario gets from the bench: the profile, where profiles go, and helpers to start
// systems under test, build devices and spread their connections over source addresses.
import type { Profile } from "../config.ts";
import type { DeviceSpec } from "../load/device.ts";
import type { Transport } from "../load/wire.ts";
import type { ScenarioResult } from "../report/results.ts";
import type { Account, Target } from "../targets/target.ts";

export interface BenchContext {
  profile: Profile;
  /** Directory for .cpuprofile files when --cpu-prof is on. */
  cpuProfileDir: string | undefined;
  /** Directory for heap snapshots when --heap-snapshot is on. */
  heapSnapshotDir: string | undefined;
  /** Whether the engines cluster scenarios run. */
  engines: boolean;
}

export interface Scenario {
  id: string;
  title: string;
  /** Runs and returns one result per system/transport measured. */
  run(ctx: BenchContext): Promise<ScenarioResult[]>;
}

let block = 0;
/**
 * Source addresses for the next batch of connections: a fresh 127.<block>.x.1 range per batch (so
 * sockets in TIME_WAIT from an earlier batch never collide), at most `perAddress` each.
 */
export function sourceAddresses(connections: number, perAddress = 4_000): string[] {
  block = (block % 250) + 1;
  const count = Math.max(1, Math.ceil(connections / perAddress));
  return Array.from({ length: count }, (_, i) => `127.${block}.${i + 1}.1`);
}

let nextIndex = 0;
/** Device specs for accounts on a target over a transport; indexes are unique in the whole run. */
export function deviceSpecs(target: Target, accounts: Account[], transport: Transport): DeviceSpec[] {
  const addresses = sourceAddresses(accounts.length);
  return accounts.map((account, i) => {
    const index = nextIndex++;
    const url =
      transport === "ws"
        ? must(target.wsUrl, "the target has no WebSocket")
        : (target.grpcUrls[i % target.grpcUrls.length] as string);
    return {
      index,
      userId: account.userId,
      deviceId: account.deviceId,
      target: { transport, url, accessToken: account.accessToken, localAddress: addresses[i % addresses.length] },
    };
  });
}

/** Stamps carry the device index in 16 bits of the message key; keep indexes small per run. */
export function resetDeviceIndexes(): void {
  nextIndex = 0;
}

export function must<T>(value: T | undefined, why: string): T {
  if (value === undefined) throw new Error(why);
  return value;
}

export function emptyResult(id: string, title: string, system: string, transport?: string): ScenarioResult {
  return { id, title, system, ...(transport ? { transport } : {}), figures: [], steps: [], notes: [], durationSeconds: 0 };
}
