// One step of open-loop traffic at a fixed offered rate: every worker starts at the same clock
// time, the first warmupMs are not measured, then the workers' histograms are merged and the
// server's CPU over exactly the measured window is read.
import * as hdr from "hdr-histogram-js";
import { type StepTiming, sustained } from "../config.ts";
import { Meter } from "../core/meter.ts";
import type { LoadPool } from "../load/pool.ts";
import type { SenderSlot, Tally } from "../load/protocol.ts";
import { newHistogram } from "../load/recorder.ts";
import { nowUs } from "../load/stamp.ts";
import type { Step } from "../report/results.ts";
import { hopAgesBetween, quantileMs } from "../targets/hop-ages.ts";
import { scrape } from "../targets/metrics.ts";
import type { Target } from "../targets/target.ts";

export interface StepPlan {
  rate: number;
  senders: SenderSlot[];
  /** Copies each message should reach, besides the sender's own device. */
  copiesPerMessage: number;
  timing: StepTiming;
  bodyBytes: number;
  /** Track the slowest copy of every message (group fanout). */
  lastMember: boolean;
  /** The p99 a sustained step keeps (default config.ts `sustained.p99Ms`). */
  p99BarMs?: number;
}

export interface StepOutcome {
  step: Step;
  sustained: boolean;
  /** Delivered copies per second in the measured window. */
  copiesPerSecond: number;
  p99Ms: number | null;
  lastMemberP99Ms: number | null;
  serverCores: number;
}

const ms = (us: number | null) => (us === null ? null : Math.round(us / 10) / 100);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function runStep(pool: LoadPool, target: Target, plan: StepPlan): Promise<StepOutcome> {
  const { timing } = plan;
  const bySender = pool.workers.map(() => [] as SenderSlot[]);
  for (const slot of plan.senders) bySender[pool.workerOf(slot.device)]?.push(slot);
  // Counters first: a busy server can take a while to answer its metrics endpoint.
  const before = sumTally(await pool.all({ kind: "tally" }));
  const countersBefore = await serverCounters(target);
  const hopsBefore = await target.hopAges?.();
  const startUs = nowUs() + 500_000;
  const measureFromUs = startUs + timing.warmupMs * 1000;
  const measureToUs = measureFromUs + timing.measureMs * 1000;
  await pool.all({ kind: "window", args: { fromUs: measureFromUs, toUs: measureToUs, trackMessages: plan.lastMember } });
  const meter = new Meter(
    () => target.serverPids(),
    () => [...pool.pids(), process.pid],
  );
  const metered = (async () => {
    await sleep((measureFromUs - nowUs()) / 1000);
    meter.start();
    await sleep((measureToUs - nowUs()) / 1000);
    return meter.stop();
  })();
  const traffic = await pool.each((w) => ({
    kind: "traffic",
    args: {
      senders: bySender[w] ?? [],
      rate: (plan.rate * (bySender[w]?.length ?? 0)) / plan.senders.length,
      startUs,
      endUs: measureToUs,
      measureFromUs,
      measureToUs,
      bodyBytes: plan.bodyBytes,
      trackMessages: plan.lastMember,
      lateUs: 5_000,
    },
  }));
  const reading = await metered;
  await sleep(timing.drainMs);
  const snapshots = await pool.all({ kind: "collect" });
  const after = sumTally(await pool.all({ kind: "tally" }));
  const countersAfter = await serverCounters(target);
  const hops = hopsBefore ? hopAgesBetween(hopsBefore, (await target.hopAges?.()) ?? new Map()) : undefined;
  const hopP99 = (hop: string) => {
    const buckets = hops?.get(hop);
    const value = buckets ? quantileMs(buckets, 0.99) : undefined;
    return value === undefined ? null : Math.round(value * 10) / 10;
  };

  const latency = newHistogram();
  const sendResult = newHistogram();
  let copies = 0;
  for (const s of snapshots) {
    latency.add(hdr.decodeFromCompressedBase64(s.latency));
    sendResult.add(hdr.decodeFromCompressedBase64(s.sendResult));
    copies += s.copies;
  }
  const issued = traffic.reduce((a, t) => a + t.issuedInWindow, 0);
  const late = traffic.reduce((a, t) => a + t.late, 0);
  const skipped = traffic.reduce((a, t) => a + t.skipped, 0);
  const allIssued = traffic.reduce((a, t) => a + t.issued, 0);
  const expected = issued * plan.copiesPerMessage;
  const seconds = timing.measureMs / 1000;
  // Counters read between steps cover the whole step (warm-up, window and drain).
  const stepSeconds = seconds + timing.warmupMs / 1000 + timing.drainMs / 1000;
  const pct = (h: typeof latency, p: number) => (h.totalCount === 0 ? null : h.getValueAtPercentile(p));

  let lastMemberP99: number | null = null;
  let incomplete = 0;
  if (plan.lastMember) {
    const merged = new Map<number, [number, number]>();
    for (const s of snapshots) {
      for (const [key, max, count] of s.perMessage) {
        const seen = merged.get(key);
        if (seen) {
          seen[0] = Math.max(seen[0], max);
          seen[1] += count;
        } else merged.set(key, [max, count]);
      }
    }
    const last = newHistogram();
    for (const [max, count] of merged.values()) {
      if (count >= plan.copiesPerMessage) last.recordValue(max);
      else incomplete++;
    }
    incomplete += Math.max(0, issued - merged.size);
    lastMemberP99 = pct(last, 99);
  }

  const p99 = pct(latency, 99);
  const deliveredRatio = expected === 0 ? 0 : copies / expected;
  const ok =
    p99 !== null &&
    p99 / 1000 <= (plan.p99BarMs ?? sustained.p99Ms) &&
    deliveredRatio >= sustained.deliveredRatio &&
    late + skipped <= sustained.lateRatio * Math.max(1, allIssued);
  const step: Step = {
    "offered msgs/s": plan.rate,
    "sent in window": issued,
    "delivered copies/s": Math.round(copies / seconds),
    "delivered %": Math.round(deliveredRatio * 1000) / 10,
    "p50 ms": ms(pct(latency, 50)),
    "p90 ms": ms(pct(latency, 90)),
    "p99 ms": ms(p99),
    "p99.9 ms": ms(pct(latency, 99.9)),
    "max ms": ms(latency.totalCount ? latency.maxValue : null),
    "send→result p50 ms": ms(pct(sendResult, 50)),
    "send→result p99 ms": ms(pct(sendResult, 99)),
    "last member p99 ms": ms(lastMemberP99),
    "incomplete msgs": plan.lastMember ? incomplete : null,
    "late sends": late,
    "skipped sends": skipped,
    "send errors": sumValues(after.sendErrors) - sumValues(before.sendErrors),
    "duplicate events": after.duplicates - before.duplicates,
    gaps: after.gaps - before.gaps,
    "receipts/s": Math.round((after.receipts - before.receipts) / stepSeconds),
    "server sends/s": countersDelta(countersBefore, countersAfter, "parley_sends_total", stepSeconds),
    "server live offers/s": countersDelta(countersBefore, countersAfter, "parley_live_deliveries_total", stepSeconds),
    // A message's age after the server accepted it (its own histograms, to within a bucket):
    // appended and published to the bus, then taken by fanout. The rest of the copy's time is
    // fanout's and the transport's.
    "server published p99 ms": hopP99("published"),
    "server consumed p99 ms": hopP99("consumed"),
    // Where latency spikes come from: the longest the server's event loop was blocked during the
    // step (prom-client resets its lag histogram at every scrape) and its GC time in the step.
    "server longest stall ms": stallMs(countersAfter),
    "server GC ms": gcMs(countersBefore, countersAfter),
    "server cores": round2(reading.serverCores),
    "server RSS MB": Math.round(reading.serverRssPeakBytes / 1e6),
    "load cores": round2(reading.loadCores),
    "other cores": round2(reading.otherCores),
    sustained: ok ? "yes" : "no",
  };
  return {
    step,
    sustained: ok,
    copiesPerSecond: copies / seconds,
    p99Ms: ms(p99),
    lastMemberP99Ms: ms(lastMemberP99),
    serverCores: reading.serverCores,
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const sumValues = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

export function sumTally(tallies: Tally[]): Tally {
  const merge = (key: "goAways" | "closes" | "sendErrors" | "streamErrors") => {
    const out: Record<string, number> = {};
    for (const t of tallies) for (const [k, v] of Object.entries(t[key])) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    open: tallies.reduce((a, t) => a + t.open, 0),
    frames: tallies.reduce((a, t) => a + t.frames, 0),
    events: tallies.reduce((a, t) => a + t.events, 0),
    duplicates: tallies.reduce((a, t) => a + t.duplicates, 0),
    gaps: tallies.reduce((a, t) => a + t.gaps, 0),
    receipts: tallies.reduce((a, t) => a + t.receipts, 0),
    goAways: merge("goAways"),
    closes: merge("closes"),
    sendErrors: merge("sendErrors"),
    streamErrors: merge("streamErrors"),
  };
}

/** Parley's own counters (sends accepted, events offered to streams), read between steps only. */
async function serverCounters(target: Target): Promise<Map<string, number> | undefined> {
  if (!target.metricsPort) return undefined;
  return scrape(target.metricsPort).catch(() => undefined);
}

function stallMs(after: Map<string, number> | undefined): number | null {
  const seconds = after?.get("parley_process_nodejs_eventloop_lag_max_seconds");
  return seconds === undefined ? null : Math.round(seconds * 10_000) / 10;
}

function gcMs(before: Map<string, number> | undefined, after: Map<string, number> | undefined): number | null {
  const seconds = growth(before, after, "parley_process_nodejs_gc_duration_seconds_sum");
  return seconds === null ? null : Math.round(seconds * 1000);
}

function countersDelta(
  before: Map<string, number> | undefined,
  after: Map<string, number> | undefined,
  name: string,
  seconds: number,
) {
  const grown = growth(before, after, name);
  return grown === null ? null : Math.round(grown / seconds);
}

/** How much a counter grew between two scrapes; null when either lacks it. */
function growth(before: Map<string, number> | undefined, after: Map<string, number> | undefined, name: string): number | null {
  const a = before?.get(name);
  const b = after?.get(name);
  return a === undefined || b === undefined ? null : b - a;
}
