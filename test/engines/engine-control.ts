// Stops and starts engines under a running cluster, through the project's engine scripts.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = new URL("../../scripts/engines/engines.sh", import.meta.url).pathname;
const runDir = process.env.PARLEY_ENGINES_RUN ?? "/tmp/parley-engines";

export async function engines(verb: "up" | "down", engine: "redis" | "kafka" | "cassandra"): Promise<void> {
  await run("bash", [script, verb, engine], { timeout: 240_000 });
}

/** kill -9 of an engine, keeping its data (a later `up` restarts it on the same data). */
export function killEngine(engine: "kafka" | "redis"): void {
  const pid = Number(readFileSync(`${runDir}/${engine}/${engine}.pid`, "utf8").trim());
  process.kill(pid, "SIGKILL");
}
