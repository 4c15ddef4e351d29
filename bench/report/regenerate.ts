// Rewrites docs/benchmarks.md and its charts from a results file (the latest one by default),
// without running anything:  node bench/report/regenerate.ts [bench/results/<timestamp>.json]
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../targets/spawn-server.ts";
import { writeDocs } from "./docs.ts";
import type { RunResult } from "./results.ts";

const dir = join(repoRoot, "bench/results");
const latest = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .at(-1);
const file = process.argv[2] ?? (latest ? join(dir, latest) : undefined);
if (!file) {
  process.stderr.write("no results in bench/results; run npm run bench first\n");
  process.exit(1);
}
await writeDocs(JSON.parse(readFileSync(file, "utf8")) as RunResult, file);
