// Runs the chosen scenarios one after another, each on fresh servers, and records everything: a
// scenario that fails is recorded with its error and the run goes on. Results are written after
// every scenario, so an interrupted run keeps what it measured.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { progress } from "./core/progress.ts";
import { summarizeProfile } from "./report/cpuprofile.ts";
import { writeDocs } from "./report/docs.ts";
import type { Machine, ProfileSummary, RunResult, ScenarioResult } from "./report/results.ts";
import { catchUp } from "./scenarios/catch-up.ts";
import type { BenchContext, Scenario } from "./scenarios/context.ts";
import { emptyResult } from "./scenarios/context.ts";
import { enginesScenario } from "./scenarios/engines.ts";
import { groupFanout } from "./scenarios/group-fanout.ts";
import { idleSessions } from "./scenarios/idle-sessions.ts";
import { oneToOne } from "./scenarios/one-to-one.ts";
import { reconnectStorm } from "./scenarios/reconnect-storm.ts";
import { repoRoot } from "./targets/spawn-server.ts";

export const scenarios: Scenario[] = [oneToOne, groupFanout, idleSessions, reconnectStorm, catchUp, enginesScenario];

export interface RunOptions {
  ctx: BenchContext;
  only: string[] | undefined;
  stamp: string;
  machine: Machine;
  server: RunResult["server"];
  label: string;
  options: RunResult["options"];
  writeDocs: boolean;
}

const resultsDir = join(repoRoot, "bench/results");

function newProfiles(dir: string | undefined, seen: Set<string>): string[] {
  if (!dir || !existsSync(dir)) return [];
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(dir, f))
    .filter((f) => !seen.has(f) && statSync(f).size > 0);
  for (const f of files) seen.add(f);
  return files;
}

function backgroundCores(results: ScenarioResult[]): number {
  const values = results.flatMap((r) => r.steps.map((s) => s["other cores"])).filter((v): v is number => typeof v === "number");
  return values.length ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100 : 0;
}

export async function runScenarios(options: RunOptions): Promise<string> {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${options.stamp}.json`);
  const started = new Date();
  const run: RunResult = {
    version: 1,
    startedAt: started.toISOString(),
    finishedAt: started.toISOString(),
    durationSeconds: 0,
    mode: options.ctx.profile.mode,
    label: options.label,
    machine: options.machine,
    server: { ...options.server, codeDir: relative(repoRoot, options.server.codeDir) || "." },
    options: options.options,
    backgroundCores: 0,
    scenarios: [],
    profiles: [],
  };
  const seenProfiles = new Set<string>();
  const save = () => {
    run.finishedAt = new Date().toISOString();
    run.durationSeconds = Math.round((Date.now() - started.getTime()) / 100) / 10;
    run.backgroundCores = backgroundCores(run.scenarios);
    writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  };
  for (const scenario of scenarios) {
    if (options.only && !options.only.includes(scenario.id)) continue;
    const began = performance.now();
    progress("scenario", { id: scenario.id, title: scenario.title });
    try {
      run.scenarios.push(...(await scenario.run(options.ctx)));
    } catch (error) {
      const failed = emptyResult(scenario.id, scenario.title, "-");
      failed.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failed.durationSeconds = (performance.now() - began) / 1000;
      run.scenarios.push(failed);
      progress("scenario-failed", { id: scenario.id, error: error instanceof Error ? error.message : String(error) });
    }
    for (const profileFile of newProfiles(options.ctx.cpuProfileDir, seenProfiles)) {
      const name = relative(options.ctx.cpuProfileDir as string, profileFile).replace(/\.cpuprofile$/, "");
      const summary: ProfileSummary = { name, file: relative(repoRoot, profileFile), ...summarizeProfile(profileFile, 20) };
      run.profiles.push(summary);
    }
    progress("scenario-done", { id: scenario.id, seconds: (performance.now() - began) / 1000 });
    save();
  }
  save();
  if (options.writeDocs) await writeDocs(run, file);
  return relative(repoRoot, file);
}
