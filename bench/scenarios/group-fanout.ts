// Scenario 2: group fanout. One group of N members, all online with one device each (gRPC, then
// the WebSocket); a few members send at a stepped rate and every copy's latency is recorded, plus
// per message the slowest copy ("the last member receives within ..."). The bare relay runs the
// same groups in the same run.
import { type GroupRun, type Profile, targets } from "../config.ts";
import { LoadPool } from "../load/pool.ts";
import type { Transport } from "../load/wire.ts";
import { figure, notReached, type ScenarioResult } from "../report/results.ts";
import type { Account, Target, TargetKind } from "../targets/target.ts";
import { type BenchContext, deviceSpecs, emptyResult, resetDeviceIndexes, type Scenario } from "./context.ts";
import { openAll } from "./devices.ts";
import { climb, type Ladder, lowestStep, saturationNote } from "./ladder.ts";
import { ratioToRelay } from "./one-to-one.ts";
import { withSystem } from "./systems.ts";

export interface GroupLadderOptions {
  startRate: number;
  factor: number;
  maxRate: number;
  half?: boolean;
  refine?: number;
}

export async function groupLadder(
  target: Target,
  profile: Profile,
  members: Account[],
  group: string,
  transport: Transport,
  label: string,
  rates: GroupLadderOptions,
): Promise<Ladder & { openNote?: string }> {
  resetDeviceIndexes();
  const devices = deviceSpecs(target, members, transport);
  const senderDevices = devices.slice(0, profile.group.senders);
  // The senders get a load worker of their own: in a worker that also receives a share of every
  // fanout, their 1 ms send clock ran late at the top steps, and late steps do not count.
  const pool = new LoadPool(profile.trafficWorkers, { dedicated: senderDevices.map((d) => d.index) });
  try {
    const opened = await openAll(pool, devices, {
      label,
      timeoutMs: profile.budget.openTimeoutMs,
      deadlineMs: profile.budget.openTimeoutMs,
    });
    const openNote =
      `Opening the ${devices.length} member devices took ${Math.round(opened.seconds * 10) / 10} s` +
      (opened.failed
        ? `; ${opened.failed} did not reach CaughtUp within the ${profile.budget.openTimeoutMs / 1000} s budget.`
        : ".");
    const senders = senderDevices.map((d) => ({ device: d.index, conversationId: group }));
    const ladder = await climb(
      pool,
      target,
      { senders, copiesPerMessage: members.length - 1, timing: profile.step, bodyBytes: profile.bodyBytes, lastMember: true },
      { ...rates, label, budget: profile.budget },
    );
    return { ...ladder, openNote };
  } finally {
    await pool.close();
  }
}

export function groupResult(system: string, size: number, transport: Transport, ladder: Ladder): ScenarioResult {
  const result = emptyResult(`group-${size}`, `group fanout to ${size} online members`, system, transport);
  result.steps = [...ladder.steps, ...(ladder.half ? [ladder.half] : [])].map((s) => s.step);
  const knee = ladder.knee;
  const parley = system.startsWith("Parley");
  const perCore = transport === "ws" && parley ? targets.groupWsCopiesPerCore : undefined;
  const lastMember = parley ? targets.groupLastMemberP99 : undefined;
  const lowest = ladder.steps[0];
  result.figures.push(
    knee
      ? figure("sustained delivered copies/s (p99 ≤ 50 ms)", Math.round(knee.copiesPerSecond), "copies/s")
      : notReached("sustained delivered copies/s (p99 ≤ 50 ms)", "copies/s", undefined, lowestStep(ladder)),
    figure("server cores at the sustained rate", knee ? Math.round(knee.serverCores * 100) / 100 : null, "cores"),
    knee && knee.serverCores > 0
      ? figure(
          "copies/s per server core at the sustained rate",
          Math.round(knee.copiesPerSecond / knee.serverCores),
          "copies/s/core",
          perCore,
        )
      : notReached("copies/s per server core at the sustained rate", "copies/s/core", perCore, lowestStep(ladder)),
    ladder.half
      ? figure("last member p99 at half the sustained rate", ladder.half.lastMemberP99Ms, "ms", lastMember)
      : lowest?.lastMemberP99Ms !== null && lowest?.lastMemberP99Ms !== undefined
        ? figure("last member p99 at the lowest rate", lowest.lastMemberP99Ms, "ms", lastMember, "no sustained rate to halve")
        : notReached("last member p99", "ms", lastMember, "no message reached every member within its step"),
  );
  const note = saturationNote(ladder);
  if (note) result.notes.push(note);
  return result;
}

async function measureSystem(
  kind: TargetKind,
  run: GroupRun,
  ctx: BenchContext,
): Promise<Map<Transport, [ScenarioResult, Ladder]>> {
  const name = `group-${run.size}${kind === "relay" ? "-relay" : ""}`;
  const { group } = ctx.profile;
  const rates =
    kind === "relay"
      ? {
          // A run capped low (the quick 1,000-member run) caps the relay the same way.
          startRate: Math.min(group.startRate.relay, run.maxRate),
          factor: group.factor,
          maxRate: Math.min(group.relayMaxRate, run.maxRate),
          half: false,
          refine: ctx.profile.refineSteps,
        }
      : {
          // A run capped below the start rate (the quick 1,000-member run) is one step at its cap.
          startRate: Math.min(group.startRate.parley, run.maxRate),
          factor: group.factor,
          maxRate: run.maxRate,
          half: run.maxRate > group.startRate.parley,
          refine: ctx.profile.refineSteps,
        };
  return withSystem(kind, name, run.size, ctx, async (target) => {
    const members = await target.accounts(run.size);
    const conversation = await target.group(members[0] as Account, members.slice(1));
    const out = new Map<Transport, [ScenarioResult, Ladder]>();
    for (const transport of run.transports) {
      const started = performance.now();
      const ladder = await groupLadder(target, ctx.profile, members, conversation, transport, `${name}-${transport}`, rates);
      const result = groupResult(target.label, run.size, transport, ladder);
      if (ladder.openNote) result.notes.push(ladder.openNote);
      if (ladder.stopped) result.notes.push(`The ladder stopped: ${ladder.stopped}.`);
      if (rates.maxRate === rates.startRate)
        result.notes.push(`${ctx.profile.mode} version: one step at ${rates.startRate} msgs/s.`);
      result.durationSeconds = (performance.now() - started) / 1000;
      out.set(transport, [result, ladder]);
    }
    return out;
  });
}

export const groupFanout: Scenario = {
  id: "group-fanout",
  title: "group fanout to 250 and 1,000 online members",
  async run(ctx) {
    const results: ScenarioResult[] = [];
    for (const run of ctx.profile.group.runs) {
      const relay = run.relay ? await measureSystem("relay", run, ctx) : undefined;
      const parley = await measureSystem("parley", run, ctx);
      for (const transport of run.transports) {
        const [parleyResult, parleyLadder] = parley.get(transport) as [ScenarioResult, Ladder];
        const relayEntry = relay?.get(transport);
        if (relayEntry) {
          results.push(relayEntry[0]);
          const target = transport === "grpc" && run.size === 250 ? targets.groupGrpcRatioToRelay : undefined;
          parleyResult.figures.push(
            ratioToRelay("ratio to the bare relay's sustained copies/s", parleyLadder, relayEntry[1], target),
          );
        }
        results.push(parleyResult);
      }
    }
    return results;
  },
};
