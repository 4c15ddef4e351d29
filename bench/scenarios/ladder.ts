// Stepped offered rates up to the knee: start low, multiply by a factor until a step is no longer
// sustained (config.ts `sustained`), optionally bisect between the knee and the failed rate (a
// doubling ladder alone can only say 25%, 50% or 100% of another), then measure once more at half
// the highest sustained rate.
import { availableParallelism } from "node:os";
import { type Budget, sustained } from "../config.ts";
import { sampleProcess } from "../core/proc.ts";
import { progress } from "../core/progress.ts";
import type { LoadPool } from "../load/pool.ts";
import type { Target } from "../targets/target.ts";
import { runStep, type StepOutcome, type StepPlan } from "./step.ts";

export interface Ladder {
  steps: StepOutcome[];
  /** The highest sustained step, if any. */
  knee: StepOutcome | undefined;
  /** The step at half the knee's delivered rate. */
  half: StepOutcome | undefined;
  /** Why the ladder stopped before a step failed, if it did. */
  stopped?: string;
}

export interface LadderOptions {
  startRate: number;
  factor: number;
  maxRate: number;
  label: string;
  budget: Budget;
  /** Measure again at half the highest sustained rate (default true). */
  half?: boolean;
  /** Steps at the geometric middle between the knee and the lowest failed rate (default 0). */
  refine?: number;
}

export async function climb(
  pool: LoadPool,
  target: Target,
  plan: Omit<StepPlan, "rate">,
  ladder: LadderOptions,
): Promise<Ladder> {
  const began = performance.now();
  const quiet = () => waitQuiet(target, ladder.budget.quietMaxMs);
  const steps: StepOutcome[] = [];
  let knee: StepOutcome | undefined;
  let kneeRate = 0;
  // A first, unrecorded step warms up the JIT of the server and of the load workers (not worth it
  // for a single step).
  if (ladder.maxRate > ladder.startRate) {
    await runStep(pool, target, { ...plan, rate: ladder.startRate, timing: { warmupMs: 2_000, measureMs: 500, drainMs: 500 } });
  }
  let stopped: string | undefined;
  let failedRate: number | undefined;
  // A near miss is run once more before it counts: one hiccup of a shared machine is not a knee.
  const measure = async (rate: number, note?: string): Promise<StepOutcome> => {
    let outcome: StepOutcome | undefined;
    for (let attempt = 1; attempt <= 2 && (!outcome || nearMiss(outcome, plan.p99BarMs ?? sustained.p99Ms)); attempt++) {
      await quiet();
      outcome = await runStep(pool, target, { ...plan, rate });
      const notes = [note, attempt === 2 ? "second attempt" : undefined].filter(Boolean);
      if (notes.length > 0) outcome.step.note = notes.join("; ");
      steps.push(outcome);
      progress("step", { scenario: ladder.label, ...outcome.step });
    }
    return outcome as StepOutcome;
  };
  for (let rate = ladder.startRate; rate <= ladder.maxRate; rate = Math.round(rate * ladder.factor * 100) / 100) {
    if (steps.length > 0 && performance.now() - began > ladder.budget.ladderMs) {
      stopped = `time budget of ${ladder.budget.ladderMs / 1000} s reached before ${rate} msgs/s`;
      progress("ladder-stopped", { scenario: ladder.label, why: stopped });
      break;
    }
    const outcome = await measure(rate);
    if (!outcome.sustained) {
      failedRate = rate;
      break;
    }
    knee = outcome;
    kneeRate = rate;
  }
  // Bisection runs past the climbing budget on purpose: it is what makes the knee a figure.
  for (let i = 0; knee && failedRate !== undefined && i < (ladder.refine ?? 0); i++) {
    const rate = Math.round(Math.sqrt(kneeRate * failedRate) * 100) / 100;
    if (rate <= kneeRate || rate >= failedRate) break;
    const outcome = await measure(rate, "between the knee and the failed step");
    if (outcome.sustained) {
      knee = outcome;
      kneeRate = rate;
    } else failedRate = rate;
  }
  let half: StepOutcome | undefined;
  if (knee && ladder.half !== false) {
    await quiet();
    half = await runStep(pool, target, { ...plan, rate: Math.max(1, Math.round((kneeRate / 2) * 100) / 100) });
    half.step.note = "half of the highest sustained rate";
    progress("step", { scenario: ladder.label, ...half.step });
  }
  return { steps, knee, half, ...(stopped ? { stopped } : {}) };
}

/** The lowest step in words, for figures a ladder that sustained nothing cannot give. */
export function lowestStep(ladder: Ladder): string {
  const first = ladder.steps[0];
  if (!first) return "no step ran";
  const p99 = first.step["p99 ms"];
  return (
    `no step was sustained; the lowest, ${first.step["offered msgs/s"]} msgs/s, had ` +
    `${first.step["delivered %"]}% of copies delivered in time and p99 ${p99 === null ? "beyond the step" : `${p99} ms`}`
  );
}

/** Failed, but by little: most copies arrived and p99 was within four times the bound. */
function nearMiss(outcome: StepOutcome, p99BarMs: number): boolean {
  const delivered = Number(outcome.step["delivered %"]);
  return !outcome.sustained && delivered >= 50 && outcome.p99Ms !== null && outcome.p99Ms <= 4 * p99BarMs;
}

/** Says so when the last step that failed had the whole machine busy: then the knee is the machine's. */
export function saturationNote(ladder: Ladder): string | undefined {
  const failed = ladder.steps.findLast((s) => !s.sustained);
  if (!failed) return undefined;
  const server = Number(failed.step["server cores"]);
  const load = Number(failed.step["load cores"]);
  const other = Number(failed.step["other cores"]);
  const cores = availableParallelism();
  if (server + load + other < 0.9 * cores) return undefined;
  return (
    `At the last step that failed (${failed.step["offered msgs/s"]} msgs/s) the machine's ${cores} cores were busy ` +
    `(server ${server}, load generator ${load}, other processes ${other} cores): the knee is where this machine ran out, ` +
    "not the server alone."
  );
}

/**
 * Waits until the server has worked off what earlier steps left (under its quiet CPU for half a second,
 * at most maxMs), so one step's backlog is not measured in the next.
 */
export async function waitQuiet(target: Target, maxMs: number): Promise<void> {
  const cpu = () => target.serverPids().reduce((a, pid) => a + (sampleProcess(pid)?.cpuSeconds ?? 0), 0);
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const before = cpu();
    await new Promise((r) => setTimeout(r, 500));
    if ((cpu() - before) * 2 < target.quietCores) return;
  }
  progress("warning", { what: "server still busy before the next step", target: target.label });
}
