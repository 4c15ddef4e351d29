// Scenario 3: idle sessions. 5k, 10k (and 19k) devices hold a stream and do nothing but
// heartbeat (every 30 s, the server's interval), over gRPC with one TCP connection each and over
// the WebSocket, from several load processes and 127.x source addresses. The server's RSS and
// heap growth per session is measured at each level on a fresh server per transport, and the
// server CPU of 10k sessions heartbeating, from one heartbeat interval after the last of them
// opened: the first interval still pays for the opening (V8 collects the garbage of 10k
// handshakes once the process goes quiet, 3-4% of a core for 10-20 s), not for being idle.
import { targets } from "../config.ts";
import { Meter } from "../core/meter.ts";
import { sampleProcess } from "../core/proc.ts";
import { progress } from "../core/progress.ts";
import type { DeviceSpec } from "../load/device.ts";
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
/** Sessions in the heap snapshot: V8 cannot read a snapshot file over 512 MB as one string. */
const snapshotSessions = 1_000;
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
      let open = 0;
      let previous: { sessions: number; rss: number } | undefined;
      for (const level of levels) {
        const batch = devices.slice(open, level);
        const opened = await openAll(pool, batch, {
          label: `${name} to ${level}`,
          concurrency: 64,
          timeoutMs: 60_000,
          deadlineMs: ctx.profile.budget.openTimeoutMs * Math.max(1, batch.length / 5_000),
        });
        open = level;
        const openedAt = performance.now();
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
        // The slope between levels leaves out what the process grows once, whatever the count
        // (V8's young generation filling up during the first burst, caches warming).
        if (previous) {
          result.figures.push(
            figure(
              `RSS per session added from ${previous.sessions} to ${sessions} sessions`,
              kb((memory.rss - previous.rss) / (sessions - previous.sessions)),
              "KB",
              undefined,
              "the marginal cost; not judged",
            ),
          );
        }
        previous = { sessions, rss: memory.rss };
        if (level === idle.heartbeatSessions) {
          await new Promise((r) => setTimeout(r, Math.max(0, openedAt + heartbeatMs - performance.now())));
          result.figures.push(await heartbeatCost(target, pool, idle.heartbeatWindowMs, level));
          // The same reading once the sessions have been idle a while: what of the opening's
          // one-off growth the process gave back by itself (V8 shrinks its heap when it goes quiet).
          const idleSeconds = Math.round((performance.now() - openedAt) / 1000);
          const rssLater = target.serverPids().reduce((a, pid) => a + (sampleProcess(pid)?.rssBytes ?? 0), 0);
          result.figures.push(
            figure(
              `RSS per idle session at ${level} sessions after ${idleSeconds} s idle`,
              kb((rssLater - base.rss) / sessions),
              "KB",
              undefined,
              "after the heartbeat window; not judged",
            ),
          );
        }
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

/** The snapshots run on a server of their own, so writing them does not inflate the RSS figures. */
async function heapOnFreshServer(transport: Transport, ctx: BenchContext, notes: string[]) {
  const name = `idle-${transport}-heap`;
  return withSystem("parley", name, snapshotSessions, ctx, async (target) => {
    resetDeviceIndexes();
    const pool = new LoadPool(1);
    try {
      const devices = deviceSpecs(target, await target.accounts(snapshotSessions), transport);
      return await heapFigures(target, pool, devices, name, ctx.heapSnapshotDir as string, notes, ctx.profile.budget.quietMaxMs);
    } finally {
      await pool.close();
    }
  });
}

/**
 * Heap snapshots (each forces a full GC) before and after opening `devices`: JS heap per session
 * and what a DeviceSession alone holds ("Parley's own state"), plus growth by constructor.
 */
async function heapFigures(
  target: Target,
  pool: LoadPool,
  devices: DeviceSpec[],
  name: string,
  dir: string,
  notes: string[],
  quietMaxMs: number,
) {
  const pid = target.serverPids()[0] as number;
  const answers = () => target.heap();
  await waitQuiet(target, quietMaxMs);
  const before = summarizeHeap(await takeHeapSnapshot(pid, dir, `${name}-0`, answers));
  await openAll(pool, devices, { label: `${name} to ${devices.length} (heap snapshot)`, concurrency: 64, timeoutMs: 60_000 });
  await waitQuiet(target, quietMaxMs);
  const after = summarizeHeap(await takeHeapSnapshot(pid, dir, `${name}-${devices.length}`, answers));
  const sessions = after.deviceSessions - before.deviceSessions;
  const growth = perSessionGrowth(before, after, sessions);
  notes.push(
    `Heap growth per session by constructor with ${sessions} sessions, after a full GC (objects, bytes): ` +
      growth.map(([n, objects, bytes]) => `${n || "(anonymous)"} ${objects}×, ${bytes} B`).join("; "),
  );
  return [
    figure(
      "Parley's own state per session (DeviceSession and what only it holds)",
      kb(after.ownedPerSession),
      "KB",
      targets.idleOwnState,
    ),
    figure(
      `JS heap per session after a full GC (${sessions} sessions)`,
      kb((after.totalBytes - before.totalBytes) / sessions),
      "KB",
    ),
  ];
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
  const other = Math.round(reading.otherCores * 100) / 100;
  progress("heartbeat-cpu", { sessions, seconds: reading.wallSeconds, percentOfCore: percent, otherCores: other });
  const note =
    `over ${Math.round(reading.wallSeconds)} s, from one heartbeat interval after the last session opened; ` +
    `other processes used ${other} cores meanwhile`;
  return figure(
    `server CPU of ${sessions} idle sessions with heartbeats`,
    percent,
    "% of a core",
    targets.idleHeartbeatCpu,
    note,
  );
}

export const idleSessions: Scenario = {
  id: "idle-sessions",
  title: "idle sessions: memory and heartbeat CPU",
  async run(ctx) {
    const results: ScenarioResult[] = [];
    for (const transport of ["grpc", "ws"] as const) {
      const result = await idleOn(transport, ctx);
      if (ctx.heapSnapshotDir) result.figures.push(...(await heapOnFreshServer(transport, ctx, result.notes)));
      results.push(result);
    }
    return results;
  },
};
