// Scenario 3: idle sessions. 5k, 10k (and 19k) devices hold a stream and do nothing but
// heartbeat (every 30 s, the server's interval), over gRPC with one TCP connection each and over
// the WebSocket, from several load processes and 127.x source addresses. The server's RSS and
// heap growth per session is measured at each level on a fresh server per transport, and the
// server CPU of 10k sessions heartbeating over a window of whole heartbeat intervals.
import { targets } from "../config.ts";
import { Meter } from "../core/meter.ts";
import { sampleProcess } from "../core/proc.ts";
import { progress } from "../core/progress.ts";
import { LoadPool } from "../load/pool.ts";
import type { Transport } from "../load/wire.ts";
import { perSessionGrowth, summarizeHeap } from "../report/heapsnapshot.ts";
import { figure, type ScenarioResult } from "../report/results.ts";
import { takeHeapSnapshot } from "../targets/heap-snapshot.ts";
import type { Target } from "../targets/target.ts";
import { type BenchContext, deviceSpecs, emptyResult, resetDeviceIndexes, type Scenario } from "./context.ts";
import { openAll } from "./devices.ts";
import { waitQuiet } from "./ladder.ts";
import { withSystem } from "./systems.ts";

const heartbeatMs = 30_000;
const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;

interface Memory {
  rss: number;
  heapUsed: number | null;
}

async function settledMemory(target: Target, settleMs: number, quietMaxMs: number): Promise<Memory> {
  await waitQuiet(target, quietMaxMs);
  await new Promise((r) => setTimeout(r, settleMs));
  const rss = target.serverPids().reduce((a, pid) => a + (sampleProcess(pid)?.rssBytes ?? 0), 0);
  const heap = await target.heap();
  return { rss, heapUsed: heap?.usedBytes ?? null };
}

async function idleOn(transport: Transport, ctx: BenchContext): Promise<ScenarioResult> {
  const { idle, devicesPerWorker } = ctx.profile;
  const levels = idle.levels;
  const max = Math.max(...levels);
  const started = performance.now();
  const name = `idle-${transport}`;
  return withSystem("parley", name, max, ctx, async (target) => {
    resetDeviceIndexes();
    const result = emptyResult("idle-sessions", "idle sessions: memory per session and heartbeat CPU", target.label, transport);
    const pool = new LoadPool(Math.max(2, Math.ceil(max / devicesPerWorker)));
    try {
      await pool.all({ kind: "heartbeats", args: { intervalMs: heartbeatMs } });
      const devices = deviceSpecs(target, await target.accounts(max), transport);
      const base = await settledMemory(target, idle.settleMs, ctx.profile.budget.quietMaxMs);
      const pid = target.serverPids()[0] as number;
      const snapshotDir = ctx.heapSnapshotDir;
      const answers = () => target.heap();
      const baseSnapshot = snapshotDir ? await takeHeapSnapshot(pid, snapshotDir, `${name}-0`, answers) : undefined;
      let open = 0;
      for (const level of levels) {
        const batch = devices.slice(open, level);
        const opened = await openAll(pool, batch, {
          label: `${name} to ${level}`,
          concurrency: 64,
          timeoutMs: 60_000,
          deadlineMs: ctx.profile.budget.openTimeoutMs * Math.max(1, batch.length / 5_000),
        });
        open = level;
        const memory = await settledMemory(target, idle.settleMs, ctx.profile.budget.quietMaxMs);
        const sessions = (await pool.all({ kind: "tally" })).reduce((a, t) => a + t.open, 0);
        const rssPer = (memory.rss - base.rss) / sessions;
        const heapPer = memory.heapUsed !== null && base.heapUsed !== null ? (memory.heapUsed - base.heapUsed) / sessions : null;
        const step: ScenarioResult["steps"][number] = {
          sessions,
          "open failures": opened.failed,
          "opens/s": Math.round(opened.opened / opened.seconds),
          "open→CaughtUp p99 ms": Math.round(opened.toCaughtUp.getValueAtPercentile(99) / 100) / 10,
          "server RSS MB": Math.round(memory.rss / 1e6),
          "RSS per session KB": kb(rssPer),
          "heap used MB": memory.heapUsed === null ? null : Math.round(memory.heapUsed / 1e6),
          "heap per session KB": heapPer === null ? null : kb(heapPer),
        };
        result.steps.push(step);
        progress("idle-level", { scenario: name, ...step });
        result.figures.push(
          figure(
            `RSS per idle session at ${level} sessions`,
            kb(rssPer),
            "KB",
            transport === "ws" ? targets.idleWsRss : targets.idleGrpcRss,
          ),
          figure(
            `heap growth per idle session at ${level} sessions`,
            heapPer === null ? null : kb(heapPer),
            "KB",
            undefined,
            "not GC-forced",
          ),
        );
        if (snapshotDir && baseSnapshot && level === levels[0]) {
          const snapshot = await takeHeapSnapshot(pid, snapshotDir, `${name}-${level}`, answers);
          const [before, after] = [summarizeHeap(baseSnapshot), summarizeHeap(snapshot)];
          result.figures.push(
            figure(
              "Parley's own state per session (DeviceSession and what only it holds)",
              kb(after.ownedPerSession),
              "KB",
              targets.idleOwnState,
            ),
            figure("JS heap per session after a full GC", kb((after.totalBytes - before.totalBytes) / sessions), "KB"),
          );
          const growth = perSessionGrowth(before, after, sessions);
          result.notes.push(
            `Heap growth per session by constructor at ${level} sessions (objects, bytes): ` +
              growth.map(([n, objects, bytes]) => `${n} ${objects}×, ${bytes} B`).join("; "),
          );
        }
        if (level === idle.heartbeatSessions && transport === "grpc")
          result.figures.push(await heartbeatCost(target, pool, idle.heartbeatWindowMs, level));
      }
      result.notes.push(
        `Each device has its own ${transport === "grpc" ? "HTTP/2 (TCP) connection" : "WebSocket (TCP) connection"}; ` +
          `devices heartbeat every ${heartbeatMs / 1000} s and answer the server's. Per-session figures are (value at the level − value with no session) ÷ sessions.`,
      );
      return result;
    } finally {
      await pool.close();
      result.durationSeconds = (performance.now() - started) / 1000;
    }
  });
}

/** Server CPU while `sessions` idle streams heartbeat, over whole heartbeat intervals. */
async function heartbeatCost(target: Target, pool: LoadPool, windowMs: number, sessions: number) {
  const meter = new Meter(
    () => target.serverPids(),
    () => [...pool.pids(), process.pid],
  );
  meter.start();
  await new Promise((r) => setTimeout(r, windowMs));
  const reading = meter.stop();
  const percent = Math.round(reading.serverCores * 1000) / 10;
  progress("heartbeat-cpu", { sessions, seconds: reading.wallSeconds, percentOfCore: percent });
  return figure(`server CPU of ${sessions} idle sessions with heartbeats`, percent, "% of a core", targets.idleHeartbeatCpu);
}

export const idleSessions: Scenario = {
  id: "idle-sessions",
  title: "idle sessions: memory and heartbeat CPU",
  async run(ctx) {
    return [await idleOn("grpc", ctx), await idleOn("ws", ctx)];
  },
};
