// `npm run bench`: Parley's load harness. Runs the scenarios of issue 5 against real server
// processes with load from separate worker processes, writes bench/results/<timestamp>.json and
// regenerates docs/benchmarks.md and its charts. See bench/README.md.
//
//   npm run bench                       quick version of everything (under 10 minutes on 2 cores)
//   npm run bench -- --full             the long version
//   npm run bench -- --only group-fanout[,idle-sessions]
//   npm run bench -- --cpu-prof         servers write .cpuprofile files; results list their top functions
//   npm run bench -- --heap-snapshot    idle scenario: heap snapshots and Parley's own state per session
//   npm run bench -- --server-rev HEAD  run the servers from an export of a commit, not the working tree
//   npm run bench -- --engines | --no-engines   force the engines scenarios on (starting the engines) or off
//   npm run bench -- --label "text"     a note shown at the top of docs/benchmarks.md
//   npm run bench -- --no-docs          write the results JSON only
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { profiles } from "./config.ts";
import { describeMachine } from "./core/machine.ts";
import { killAllNow, running, stopAll } from "./core/processes.ts";
import { progress } from "./core/progress.ts";
import { runScenarios, scenarios } from "./run.ts";
import { enginesUp } from "./targets/engines.ts";
import { serverCode } from "./targets/server-dir.ts";
import { repoRoot, setServerRoot } from "./targets/spawn-server.ts";

const { values } = parseArgs({
  options: {
    full: { type: "boolean", default: false },
    only: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "heap-snapshot": { type: "boolean", default: false },
    "server-rev": { type: "string" },
    engines: { type: "boolean" },
    label: { type: "string", default: "" },
    docs: { type: "boolean", default: true },
    help: { type: "boolean", default: false },
  },
  allowNegative: true,
});

if (values.help) {
  process.stdout.write(`${(await import("node:fs")).readFileSync(new URL(import.meta.url), "utf8").split("\nimport")[0]}\n`);
  process.exit(0);
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    progress("interrupted", { signal, stopping: running().join(",") });
    stopAll(5_000).finally(() => process.exit(130));
  });
}
process.on("unhandledRejection", (reason) => {
  progress("error", { what: "unhandled rejection", reason: reason instanceof Error ? reason.stack : String(reason) });
  stopAll(5_000).finally(() => process.exit(1));
});
process.on("exit", killAllNow);

const profile = values.full ? profiles.full : profiles.quick;
const only = values.only?.split(",").map((s) => s.trim());
const unknown = only?.filter((id) => !scenarios.some((s) => s.id === id));
if (unknown?.length) {
  process.stderr.write(`unknown scenario ${unknown.join(", ")}; known: ${scenarios.map((s) => s.id).join(", ")}\n`);
  process.exit(2);
}
const code = serverCode(values["server-rev"]);
setServerRoot(code.dir);
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const cpuProfileDir = values["cpu-prof"] ? join(repoRoot, "bench/results/profiles", stamp) : undefined;
const heapSnapshotDir = values["heap-snapshot"] ? join(repoRoot, "bench/results/heap", stamp) : undefined;
for (const dir of [cpuProfileDir, heapSnapshotDir]) if (dir) mkdirSync(dir, { recursive: true });
const engines = values.engines ?? enginesUp();

progress("start", {
  mode: profile.mode,
  scenarios: only?.join(",") ?? "all",
  server: code.commit.slice(0, 12),
  dirty: code.dirty,
  engines,
});
try {
  const file = await runScenarios({
    ctx: { profile, cpuProfileDir, heapSnapshotDir, engines },
    only,
    stamp,
    machine: describeMachine(),
    server: { commit: code.commit, dirty: code.dirty, codeDir: code.dir },
    label: values.label ?? "",
    options: {
      full: values.full ?? false,
      only: values.only ?? "",
      cpuProf: values["cpu-prof"] ?? false,
      heapSnapshot: values["heap-snapshot"] ?? false,
      serverRev: values["server-rev"] ?? "",
      engines,
    },
    writeDocs: values.docs ?? true,
  });
  progress("done", { results: file });
} catch (error) {
  progress("error", { what: "bench failed", error: error instanceof Error ? error.stack : String(error) });
  process.exitCode = 1;
} finally {
  await stopAll();
}
