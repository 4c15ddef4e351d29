// Scenarios 1, 2 and 5 on the engines cluster (Cassandra, Kafka, Redis and Parley's separate
// processes, everything on the same two cores): 1:1 at 1,000 msgs/s sustained, group fanout over
// gRPC (the gateways serve no WebSocket), and catch-up of 10,000 messages. One cluster serves all
// three, since starting one takes long. Runs only when the engines are up, or with --engines.
import { execFileSync } from "node:child_process";
import { targets } from "../config.ts";
import { progress } from "../core/progress.ts";
import { figure, notReached, type ScenarioResult } from "../report/results.ts";
import { enginesUp } from "../targets/engines.ts";
import { describeHopAges, type HopAges, hopAgesBetween } from "../targets/hop-ages.ts";
import { serverRoot } from "../targets/spawn-server.ts";
import type { Account, Target } from "../targets/target.ts";
import { catchUpOn } from "./catch-up.ts";
import { emptyResult, type Scenario } from "./context.ts";
import { groupLadder, groupResult } from "./group-fanout.ts";
import { ladderResult, oneToOneLadder } from "./one-to-one.ts";
import { withSystem } from "./systems.ts";

export const enginesScenario: Scenario = {
  id: "engines",
  title: "1:1, group fanout and catch-up on the engines cluster",
  async run(ctx) {
    if (!ctx.engines) {
      const skipped = emptyResult("engines", this.title, "Parley (engines cluster)");
      skipped.skipped = "the engines are not running (npm run engines:up), and --engines was not given";
      return [skipped];
    }
    if (!enginesUp()) {
      progress("engines", { step: "npm run engines:up" });
      execFileSync("npm", ["run", "-s", "engines:up"], { cwd: serverRoot(), stdio: ["ignore", 2, 2] });
    }
    const { engines } = ctx.profile;
    return withSystem("parley-engines", "engines", 0, ctx, async (target) => {
      const results: ScenarioResult[] = [];
      const started = performance.now();
      const profile = { ...ctx.profile, step: { warmupMs: 3_000, measureMs: engines.sustainMs, drainMs: 3_000 } };
      const one = emptyResult("engines-one-to-one", "1:1 chat at 1,000 msgs/s sustained (engines)", target.label, "grpc");
      const rate = engines.oneToOneRate;
      // The engines' own bound (100 ms), not the embedded ladders' 50: what the cluster sustains
      // is then read against its target.
      const bar = targets.enginesP99.value;
      const hopsBefore = await target.hopAges?.();
      const ladder = await oneToOneLadder(
        target,
        profile,
        "grpc",
        { startRate: engines.oneToOneStartRate, factor: 2, maxRate: rate, half: false },
        "engines-1:1",
        bar,
      );
      ladderResult(one, ladder, bar);
      await noteHopAges(target, hopsBefore, one.notes);
      const step = ladder.steps.find((s) => s.step["offered msgs/s"] === rate);
      const highest = ladder.steps.at(-1)?.step["offered msgs/s"];
      const p99Name = `p99 send→deliver at ${rate} msgs/s for ${engines.sustainMs / 1000} s`;
      const bound = (profile.step.measureMs + profile.step.drainMs) / 1000;
      one.figures.push(
        step?.p99Ms != null
          ? figure(p99Name, step.p99Ms, "ms", targets.enginesP99)
          : notReached(
              p99Name,
              "ms",
              targets.enginesP99,
              step
                ? `no copy of a message sent in the window arrived before the step ended (${bound} s)`
                : `the ladder stopped at ${highest} msgs/s, below the target rate`,
            ),
        figure("delivered in time", step ? Number(step.step["delivered %"]) : null, "%"),
      );
      if (engines.sustainMs < 60_000)
        one.notes.push(`Quick run: sustained ${engines.sustainMs / 1000} s, not the 60 s of the target.`);
      one.durationSeconds = (performance.now() - started) / 1000;
      results.push(one);

      for (const size of engines.groupSizes) {
        const began = performance.now();
        const members = await target.accounts(size);
        const group = await target.group(members[0] as Account, members.slice(1));
        const { startRate, factor } = ctx.profile.group;
        const rates =
          ctx.profile.mode === "full"
            ? { startRate: startRate.parley, factor, maxRate: engines.groupRate * 16 }
            : { startRate: engines.groupRate, factor: 2, maxRate: engines.groupRate, half: false };
        const groupHopsBefore = await target.hopAges?.();
        const groupSteps = await groupLadder(target, ctx.profile, members, group, "grpc", `engines-group-${size}`, rates);
        const result = groupResult(target.label, size, "grpc", groupSteps);
        result.id = `engines-group-${size}`;
        if (ctx.profile.mode === "quick") result.notes.push(`Quick run: one step at ${engines.groupRate} msgs/s into the group.`);
        await noteHopAges(target, groupHopsBefore, result.notes);
        result.durationSeconds = (performance.now() - began) / 1000;
        results.push(result);
      }

      const catchUp = await catchUpOn(target, ctx, "engines-catch-up");
      catchUp.id = "engines-catch-up";
      results.push(catchUp);
      return results;
    });
  },
};

/** Adds the hops' ages over what ran since `before` (a cluster without the histograms adds nothing). */
async function noteHopAges(target: Target, before: HopAges | undefined, notes: string[]) {
  const after = await target.hopAges?.();
  const line = before && after ? describeHopAges(hopAgesBetween(before, after)) : undefined;
  if (line) notes.push(line);
}
