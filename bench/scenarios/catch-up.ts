// Scenario 5: catch-up sync. A device whose user has 100 direct conversations reconnects after
// 10,000 messages (100 in each) arrived while it was away, and replays them all: the time from
// opening the stream to CaughtUp, with the largest window a client may ask for (1024). Repeated,
// each time from the start of every conversation (Hello cursors at 0).
import { targets } from "../config.ts";
import { progress } from "../core/progress.ts";
import { LoadPool } from "../load/pool.ts";
import { figure, type ScenarioResult } from "../report/results.ts";
import type { Account, Target } from "../targets/target.ts";
import { type BenchContext, deviceSpecs, emptyResult, resetDeviceIndexes, type Scenario } from "./context.ts";
import { openAll } from "./devices.ts";
import { waitQuiet } from "./ladder.ts";
import { withSystem } from "./systems.ts";

async function seedHistory(target: Target, peers: Account[], conversations: string[], perConversation: number): Promise<number> {
  const started = performance.now();
  const jobs = conversations.flatMap((c, i) => Array.from({ length: perConversation }, (_, n) => [i, c, n] as const));
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < jobs.length) {
        const [i, conversation, n] = jobs[next++] as (typeof jobs)[number];
        await target.sendUnary(peers[i] as Account, conversation, `seed-${i}-${n}`, `history message ${n} of conversation ${i}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  progress("catch-up-seeded", { messages: jobs.length, seconds, perSecond: Math.round(jobs.length / seconds) });
  return jobs.length / seconds;
}

export async function catchUpOn(target: Target, ctx: BenchContext, name: string): Promise<ScenarioResult> {
  const { conversations: count, perConversation, repeats } = ctx.profile.catchUp;
  const started = performance.now();
  resetDeviceIndexes();
  const result = emptyResult(
    "catch-up",
    "catch-up sync of 10,000 missed messages across 100 conversations",
    target.label,
    "grpc",
  );
  const pool = new LoadPool(1);
  try {
    const [me, ...peers] = await target.accounts(count + 1);
    const conversations = await target.directs(peers.map((p) => [me as Account, p] as [Account, Account]));
    const seedRate = await seedHistory(target, peers, conversations, perConversation);
    const device = deviceSpecs(target, [me as Account], "grpc");
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      await waitQuiet(target, ctx.profile.budget.quietMaxMs);
      const opened = await openAll(pool, device, { label: `${name} #${r + 1}`, window: 1024, helloCursors: conversations });
      const seconds = (opened.lastCaughtUpUs - opened.firstOpenUs) / 1e6;
      times.push(seconds);
      result.steps.push({
        run: r + 1,
        "events replayed": opened.replayed,
        "Connect → CaughtUp s": Math.round(seconds * 1000) / 1000,
        "events/s": Math.round(opened.replayed / seconds),
      });
      progress("catch-up", { scenario: name, ...result.steps.at(-1) });
      await pool.all({ kind: "close", args: { abrupt: false } });
    }
    const best = Math.min(...times);
    const sorted = [...times].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    const median = Number.isInteger(mid)
      ? ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
      : (sorted[Math.floor(mid)] as number);
    const goal = target.kind === "parley" ? targets.catchUpEmbedded : targets.catchUpEngines;
    result.figures.push(
      figure("Connect → CaughtUp, median", Math.round(median * 1000) / 1000, "s", goal),
      figure("Connect → CaughtUp, best", Math.round(best * 1000) / 1000, "s"),
      figure("events replayed per catch-up", Number(result.steps[0]?.["events replayed"] ?? 0), "events"),
      figure("history seeding rate (unary SendMessage, 64 in flight)", Math.round(seedRate), "msgs/s"),
    );
    result.notes.push(
      `${count} conversations × ${perConversation} messages, plus each conversation's creation event; window 1024, the device acks every event as it arrives.`,
    );
    return result;
  } finally {
    await pool.close();
    result.durationSeconds = (performance.now() - started) / 1000;
  }
}

export const catchUp: Scenario = {
  id: "catch-up",
  title: "catch-up sync of 10,000 missed messages across 100 conversations",
  async run(ctx) {
    const accounts = ctx.profile.catchUp.conversations + 1;
    return [await withSystem("parley", "catch-up", accounts, ctx, (target) => catchUpOn(target, ctx, "catch-up"))];
  },
};
