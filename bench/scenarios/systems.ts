// Starts a system under test for one scenario, with CPU profiling and heap snapshots as asked.
import { startEngines } from "../targets/engines.ts";
import { startParley } from "../targets/parley.ts";
import { startRelay } from "../targets/relay.ts";
import type { Target, TargetKind } from "../targets/target.ts";
import type { BenchContext } from "./context.ts";

export function startSystem(kind: TargetKind, name: string, accounts: number, ctx: BenchContext): Promise<Target> {
  const options = { name, cpuProfileDir: ctx.cpuProfileDir, heapSnapshotDir: ctx.heapSnapshotDir };
  switch (kind) {
    case "parley":
      return startParley(accounts, options);
    case "relay":
      return startRelay(options);
    case "parley-engines":
      return startEngines(options);
  }
}

/** Runs fn with a started system and always stops it (and the load workers fn started). */
export async function withSystem<T>(
  kind: TargetKind,
  name: string,
  accounts: number,
  ctx: BenchContext,
  fn: (target: Target) => Promise<T>,
): Promise<T> {
  const target = await startSystem(kind, name, accounts, ctx);
  try {
    return await fn(target);
  } finally {
    await target.stop();
  }
}
