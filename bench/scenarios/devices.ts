// Opening a scenario's devices on the load workers and checking they all made it.
import * as hdr from "hdr-histogram-js";
import { progress } from "../core/progress.ts";
import type { DeviceSpec } from "../load/device.ts";
import type { LoadPool } from "../load/pool.ts";
import type { OpenResult } from "../load/protocol.ts";
import { sumTally } from "./step.ts";

export interface Opened {
  opened: number;
  failed: number;
  /** open → CaughtUp per device, µs. */
  toCaughtUp: ReturnType<typeof hdr.build>;
  firstOpenUs: number;
  lastCaughtUpUs: number;
  replayed: number;
  events: number;
  seconds: number;
}

export async function openAll(
  pool: LoadPool,
  devices: DeviceSpec[],
  options: {
    label: string;
    window?: number;
    spreadMs?: number;
    concurrency?: number;
    /** Per device, open → CaughtUp. */
    timeoutMs?: number;
    /** For the whole batch (bounded-concurrency opens). */
    deadlineMs?: number;
    helloCursors?: string[];
  },
): Promise<Opened> {
  const started = performance.now();
  const shares = pool.place(devices);
  const results = await pool.each((w) => ({
    kind: "open",
    args: {
      devices: shares[w] ?? [],
      window: options.window ?? 0,
      ...(options.spreadMs ? { spreadMs: options.spreadMs } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(options.helloCursors ? { helloCursors: options.helloCursors } : {}),
      ...(options.deadlineMs ? { deadlineMs: options.deadlineMs } : {}),
      timeoutMs: options.timeoutMs ?? 60_000,
    },
  }));
  const opened = merge(results, (performance.now() - started) / 1000);
  progress("opened", {
    what: options.label,
    opened: opened.opened,
    failed: opened.failed,
    seconds: opened.seconds,
    perSecond: Math.round(opened.opened / opened.seconds),
  });
  if (opened.failed > 0) {
    const tally = sumTally(await pool.all({ kind: "tally" }));
    progress("open-failures", {
      what: options.label,
      closes: JSON.stringify(tally.closes),
      goAways: JSON.stringify(tally.goAways),
    });
  }
  return opened;
}

function merge(results: OpenResult[], seconds: number): Opened {
  const toCaughtUp = hdr.build({ numberOfSignificantValueDigits: 3, highestTrackableValue: 600_000_000 });
  for (const r of results) toCaughtUp.add(hdr.decodeFromCompressedBase64(r.toCaughtUp));
  const firsts = results.map((r) => r.firstOpenUs).filter((t) => t > 0);
  return {
    opened: results.reduce((a, r) => a + r.opened, 0),
    failed: results.reduce((a, r) => a + r.failed, 0),
    toCaughtUp,
    firstOpenUs: firsts.length ? Math.min(...firsts) : 0,
    lastCaughtUpUs: Math.max(0, ...results.map((r) => r.lastCaughtUpUs)),
    replayed: results.reduce((a, r) => a + r.replayed, 0),
    events: results.reduce((a, r) => a + r.events, 0),
    seconds,
  };
}
