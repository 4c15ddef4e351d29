// Prints where a process spent its CPU, from .cpuprofile files (`npm run bench -- --cpu-prof`
// leaves one per server in bench/results/profiles/<run>/):
//
//   node bench/profile-summary.ts <file.cpuprofile | directory> [--top 30]
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { summarizeProfile } from "./report/cpuprofile.ts";

const args = process.argv.slice(2);
const topIndex = args.indexOf("--top");
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
const paths = args.filter((a, i) => a !== "--top" && i !== topIndex + 1);
if (paths.length === 0) {
  process.stderr.write("usage: node bench/profile-summary.ts <file.cpuprofile | directory>... [--top N]\n");
  process.exit(2);
}

const files = paths.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".cpuprofile"))
        .map((f) => join(p, f))
    : [p],
);

for (const file of files) {
  const summary = summarizeProfile(file, top);
  console.log(`\n${file}\n  busy ${summary.busyMs} ms, idle ${summary.idleMs} ms\n`);
  console.log("  self ms   busy %  function (where)");
  for (const f of summary.functions) {
    console.log(`  ${String(f.ms).padStart(7)}  ${f.percent.toFixed(1).padStart(6)}  ${f.name} (${f.where})`);
  }
  console.log("\n  self ms   busy %  area");
  for (const a of summary.areas) console.log(`  ${String(a.ms).padStart(7)}  ${a.percent.toFixed(1).padStart(6)}  ${a.name}`);
  console.log("\n  incl ms   busy %  Parley function (where), with everything it calls");
  for (const f of summary.parley) {
    console.log(`  ${String(f.ms).padStart(7)}  ${f.percent.toFixed(1).padStart(6)}  ${f.name} (${f.where})`);
  }
}
