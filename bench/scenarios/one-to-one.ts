// Scenario 1: 1:1 chat. P pairs of devices, each pair in its direct conversation, both sending
// (gRPC, one connection per device); the offered rate climbs until p99 passes 50 ms or copies go
// missing. Measured on the bare relay first, then on Parley, in the same run.
import { type Profile, sustained, targets } from "../config.ts";
import { LoadPool } from "../load/pool.ts";
import type { Transport } from "../load/wire.ts";
import { figure, notReached, type ScenarioResult, type TargetSpec } from "../report/results.ts";
import type { Account, Target, TargetKind } from "../targets/target.ts";
import { type BenchContext, deviceSpecs, emptyResult, resetDeviceIndexes, type Scenario } from "./context.ts";
import { openAll } from "./devices.ts";
import { climb, type Ladder, lowestStep, saturationNote } from "./ladder.ts";
import { withSystem } from "./systems.ts";

export async function oneToOneLadder(
  target: Target,
  profile: Profile,
  transport: Transport,
  ladder: { startRate: number; factor: number; maxRate: number; half?: boolean; refine?: number },
  label: string,
  /** The p99 a sustained step keeps, when not config.ts `sustained.p99Ms`. */
  p99BarMs?: number,
): Promise<Ladder & { openNote?: string }> {
  resetDeviceIndexes();
  const pool = new LoadPool(profile.trafficWorkers);
  try {
    const pairs = profile.oneToOne.pairs;
    const accounts = await target.accounts(pairs * 2);
    const couples = Array.from({ length: pairs }, (_, i) => [accounts[2 * i], accounts[2 * i + 1]] as [Account, Account]);
    const conversations = await target.directs(couples);
    const devices = deviceSpecs(target, accounts, transport);
    const opened = await openAll(pool, devices, {
      label,
      timeoutMs: profile.budget.openTimeoutMs,
      deadlineMs: profile.budget.openTimeoutMs,
    });
    const senders = devices.map((d, i) => ({ device: d.index, conversationId: conversations[Math.floor(i / 2)] as string }));
    const result = await climb(
      pool,
      target,
      { senders, copiesPerMessage: 1, timing: profile.step, bodyBytes: profile.bodyBytes, lastMember: false, p99BarMs },
      { ...ladder, label, budget: profile.budget },
    );
    return opened.failed
      ? { ...result, openNote: `${opened.failed} of ${devices.length} devices did not reach CaughtUp.` }
      : result;
  } finally {
    await pool.close();
  }
}

export function ladderResult(
  result: ScenarioResult,
  ladder: Ladder & { openNote?: string },
  p99BarMs: number = sustained.p99Ms,
): void {
  if (ladder.openNote) result.notes.push(ladder.openNote);
  result.steps = [...ladder.steps, ...(ladder.half ? [ladder.half] : [])].map((s) => s.step);
  const name = `sustained delivered messages/s (p99 ≤ ${p99BarMs} ms)`;
  result.figures.push(
    ladder.knee
      ? figure(name, Math.round(ladder.knee.copiesPerSecond), "msgs/s")
      : notReached(name, "msgs/s", undefined, lowestStep(ladder)),
    figure("p99 at the sustained rate", ladder.knee?.p99Ms ?? null, "ms"),
    figure("server cores at the sustained rate", ladder.knee ? Math.round(ladder.knee.serverCores * 100) / 100 : null, "cores"),
  );
  const note = saturationNote(ladder);
  if (note) result.notes.push(note);
  if (ladder.stopped) result.notes.push(`The ladder stopped: ${ladder.stopped}.`);
}

async function measure(kind: TargetKind, ctx: BenchContext, name: string): Promise<[ScenarioResult, Ladder]> {
  const started = performance.now();
  const accounts = ctx.profile.oneToOne.pairs * 2;
  return withSystem(kind, name, accounts, ctx, async (target) => {
    const result = emptyResult("one-to-one", "1:1 chat, stepped offered rate", target.label, "grpc");
    const { startRate, factor, maxRate } = ctx.profile.oneToOne;
    const start = kind === "relay" ? startRate.relay : startRate.parley;
    // The half-rate step is a target for Parley only.
    const ladder = await oneToOneLadder(
      target,
      ctx.profile,
      "grpc",
      { startRate: start, factor, maxRate, half: kind !== "relay", refine: ctx.profile.refineSteps },
      name,
    );
    ladderResult(result, ladder);
    result.durationSeconds = (performance.now() - started) / 1000;
    return [result, ladder];
  });
}

export const oneToOne: Scenario = {
  id: "one-to-one",
  title: "1:1 chat at stepped offered rates",
  async run(ctx) {
    const [relay, relayLadder] = await measure("relay", ctx, "one-to-one-relay");
    const [parley, parleyLadder] = await measure("parley", ctx, "one-to-one");
    parley.figures.push(
      ratioToRelay("ratio to the bare relay's sustained rate", parleyLadder, relayLadder, targets.oneToOneRatioToRelay),
      parleyLadder.half
        ? figure("p99 at half the sustained rate", parleyLadder.half.p99Ms, "ms", targets.oneToOneHalfRateP99)
        : notReached("p99 at half the sustained rate", "ms", targets.oneToOneHalfRateP99, lowestStep(parleyLadder)),
    );
    if (relayLadder.steps.every((s) => s.sustained)) {
      relay.notes.push("The relay never failed a step: its figure is the top of the ladder, so it is a lower bound.");
    }
    return [relay, parley];
  },
};

/** Parley's sustained throughput as a share of the relay's (percent), or why there is none. */
export function ratioToRelay(name: string, parley: Ladder, relay: Ladder, target: TargetSpec | undefined) {
  if (!relay.knee) return figure(name, null, "%", target, "the relay sustained no step in this run");
  if (!parley.knee) return notReached(name, "%", target, lowestStep(parley));
  return figure(name, Math.round((parley.knee.copiesPerSecond / relay.knee.copiesPerSecond) * 1000) / 10, "%", target);
}
