// `node bench/cassandra-pools.ts [--rates 100,1000,4000] [--slack 50000,250000] [--seconds 10]`:
// what Cassandra's CPU costs per request at fixed low rates, against the engines' running node
// (`npm run engines:up -- cassandra` and `npm run cassandra:migrate` first). A child process offers
// prepared point reads and writes (half each) at each rate, one request at a time, and reports
// their latency; this process reads Cassandra's CPU from /proc over the same window. With --slack
// (root, or CAP_SYS_NICE) it first sets the timer slack of each of Cassandra's threads, which is
// how docs/cassandra.md ("Timer slack") measured the request pools' idle spinning.
import { fork } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import cassandra from "cassandra-driver";
import { build } from "hdr-histogram-js";
import { describeMachine } from "./core/machine.ts";
import { sampleProcess } from "./core/proc.ts";
import { enginePid } from "./targets/engines.ts";

interface LoadResult {
  requests: number;
  seconds: number;
  p50: number;
  p95: number;
  p99: number;
}

if (process.argv[2] === "load") await runLoad(Number(process.argv[3]), Number(process.argv[4]));
else await main();

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rates: { type: "string", default: "100,1000,4000" },
      slack: { type: "string", default: "" },
      seconds: { type: "string", default: "10" },
    },
  });
  const pid = enginePid("cassandra");
  if (pid === undefined) throw new Error("Cassandra is not running: npm run engines:up -- cassandra");
  const rates = values.rates.split(",").map(Number);
  const slacks = values.slack ? values.slack.split(",").map(Number) : [undefined];
  const seconds = Number(values.seconds);
  const rows: Record<string, string | number>[] = [];
  for (const slack of slacks) {
    if (slack !== undefined) setTimerSlack(pid, slack);
    for (const rate of rates) {
      const child = fork(import.meta.filename, ["load", String(rate), String(seconds)]);
      // The first second warms the connection and the statements; CPU is read after it.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const before = sampleProcess(pid);
      const result = await new Promise<LoadResult>((resolve, reject) => {
        child.once("message", (message) => resolve(message as LoadResult));
        child.once("exit", (code) => code !== 0 && reject(new Error(`load process exited with ${code}`)));
      });
      const after = sampleProcess(pid);
      if (!before || !after) throw new Error("Cassandra's process went away");
      const cores = (after.cpuSeconds - before.cpuSeconds) / (seconds - 1);
      const served = result.requests / result.seconds;
      const row = {
        "timer slack ns": slack ?? "as started",
        "offered req/s": rate,
        "served req/s": Math.round(served),
        "Cassandra cores": round(cores),
        "CPU µs per request": Math.round((cores * 1e6) / served),
        "p50 ms": round(result.p50),
        "p95 ms": round(result.p95),
        "p99 ms": round(result.p99),
      };
      process.stderr.write(`${JSON.stringify(row)}\n`);
      rows.push(row);
    }
  }
  console.table(rows);
  console.log(JSON.stringify({ machine: describeMachine(), cassandraPid: pid, rows }));
}

/** One request at a time at `rate` a second for `seconds`; posts the latency percentiles. */
async function runLoad(rate: number, seconds: number): Promise<void> {
  const client = new cassandra.Client({
    contactPoints: [process.env.PARLEY_CASSANDRA_CONTACT ?? "127.0.0.1:19042"],
    localDataCenter: "datacenter1",
    keyspace: process.env.PARLEY_CASSANDRA_KEYSPACE ?? "parley",
    encoding: { useBigIntAsLong: true },
  });
  await client.connect();
  const read = "SELECT device_id, user_id, revoked_at FROM devices WHERE device_id = ?";
  const write = "UPDATE device_cursors USING TIMESTAMP ? SET sequence = ? WHERE device_id = ? AND conversation_id = ?";
  const latency = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1_000) {
    n++;
    const device = `bench-device-${n % 1_000}`;
    const sent = performance.now();
    if (n % 2 === 0) await client.execute(read, [device], { prepare: true });
    else await client.execute(write, [BigInt(n), BigInt(n), device, "bench-conversation"], { prepare: true });
    latency.recordValue(Math.round((performance.now() - sent) * 1_000));
    const due = start + (n * 1_000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const result: LoadResult = {
    requests: n,
    seconds: (performance.now() - start) / 1_000,
    p50: latency.getValueAtPercentile(50) / 1_000,
    p95: latency.getValueAtPercentile(95) / 1_000,
    p99: latency.getValueAtPercentile(99) / 1_000,
  };
  await client.shutdown();
  process.send?.(result);
  process.disconnect?.();
}

/** Every thread's slack (threads started later inherit it from the thread that starts them). */
function setTimerSlack(pid: number, ns: number): void {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      writeFileSync(`/proc/${tid}/timerslack_ns`, String(ns));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
}

function round(value: number): number {
  return Math.round(value * 1_000) / 1_000;
}
