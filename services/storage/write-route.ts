// Where the hot writes commit: on the serving connection while the event loop has room, on the
// write thread once it is busy. Handing a write to the thread costs the serving thread a
// postMessage, a wake-up and the answer's message, about what the commit itself costs it; it pays
// off only when the serving thread is the bottleneck. Measured in bench/ (1:1 on two cores): at
// 800 msgs/s the server used 0.66-0.68 cores with the thread and 0.51 without, at 1,600 0.97
// against 0.75, with lower p50 and p99 inline; at 3,200 the thread lifts the serving thread's
// load from about 0.76 to 0.61-0.65 cores and the knee with it. So the route follows the serving
// thread's event-loop utilization, with a gap between the two thresholds so it does not flap.
import { type EventLoopUtilization, performance } from "node:perf_hooks";

export interface WriteRoute {
  /** True while the hot writes should go to the write thread. */
  readonly offload: boolean;
  stop(): void;
}

export interface LoadRouteOptions {
  /** Utilization (0-1) of the serving thread at or above which writes go to the thread. */
  threadAbove: number;
  /** Utilization at or below which they come back to the serving connection. */
  inlineBelow: number;
  /** How often utilization is sampled, over the time since the last sample. */
  sampleMs?: number;
  /** The serving thread's utilization since the previous call (tests pass their own). */
  utilization?: () => number;
  /** Each sample and the route it chose (metrics). */
  onSample?: (busy: number, offload: boolean) => void;
}

/**
 * The embedded server's thresholds. Event-loop utilization in 100 ms samples, 1:1 in bench/ on
 * two cores: inline, 0.58-0.81 at 1,600 msgs/s and 0.75-1.00 at 3,200; with the thread,
 * 0.68-0.96 at 3,200 (the wake-ups and the waits for a core count too). Samples of 500 ms
 * (the default) smooth those swings. Inline was as fast as the
 * thread at 3,200 and used 0.15 fewer cores, so writes leave the serving connection only when it
 * is all but saturated, and come back once the thread's load drops to what inline handles.
 */
export const defaultLoadRoute = { threadAbove: 0.95, inlineBelow: 0.75 };

const defaultSampleMs = 500;

/** A route that always gives the same answer (PARLEY_SQLITE_WRITE_THREAD=true or false). */
export const fixedRoute = (offload: boolean): WriteRoute => ({ offload, stop: () => {} });

/** Offloads while the serving thread is busy (see the top of this file). */
export function loadRoute(options: LoadRouteOptions): WriteRoute {
  const utilization = options.utilization ?? eventLoopUtilization();
  let offload = false;
  const timer = setInterval(() => {
    const busy = utilization();
    offload = nextOffload(offload, busy, options);
    options.onSample?.(busy, offload);
  }, options.sampleMs ?? defaultSampleMs);
  timer.unref();
  return {
    get offload() {
      return offload;
    },
    stop: () => clearInterval(timer),
  };
}

/** Whether to offload after a sample of `busy`: on at threadAbove, off at inlineBelow, as before between. */
export function nextOffload(
  offload: boolean,
  busy: number,
  options: Pick<LoadRouteOptions, "threadAbove" | "inlineBelow">,
): boolean {
  if (busy >= options.threadAbove) return true;
  if (busy <= options.inlineBelow) return false;
  return offload;
}

/** This thread's event-loop utilization since the previous call. */
function eventLoopUtilization(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    return delta.utilization;
  };
}
