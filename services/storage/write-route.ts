// Where the hot writes commit: on the serving connection while the event loop has room, on the
// write thread once it is busy. Handing a write to the thread costs the serving thread a
// postMessage, a wake-up and the answer's message, about what the commit itself costs it; it pays
// off only when the serving thread is busy: a commit there then holds up the frames behind it,
// and near the knee the thread takes the commits off a saturated serving thread. Measured in
// bench/ (1:1 on two cores): at 800 msgs/s the server used 0.66-0.68 cores with the thread and
// 0.51 without. So the route follows the serving thread's event-loop utilization.
import { type EventLoopUtilization, performance } from "node:perf_hooks";

export interface WriteRoute {
  /** True while the hot writes should go to the write thread. */
  readonly offload: boolean;
  stop(): void;
}

export interface RouteThresholds {
  /** Utilization (0-1) of the serving thread at or above which writes go to the thread... */
  threadAbove: number;
  /** ...once this many samples in a row reached it (one busy moment is not a saturated thread). */
  busySamples: number;
  /** Utilization at or below which they come back to the serving connection... */
  inlineBelow: number;
  /** ...but not sooner than this after they left it, so that a load near the line does not flap. */
  minOffloadMs: number;
}

export interface LoadRouteOptions extends RouteThresholds {
  /** How often utilization is sampled, over the time since the last sample. */
  sampleMs?: number;
  /** The serving thread's utilization since the previous call (tests pass their own). */
  utilization?: () => number;
  /** Each sample and the route it chose (metrics). */
  onSample?: (busy: number, offload: boolean) => void;
  /** Milliseconds, for minOffloadMs (tests pass their own). */
  now?: () => number;
}

/**
 * The embedded server's thresholds, from bench/ on two cores (event-loop utilization counts the
 * waits for a core too). Inline is cheaper at every rate: 0.51 against 0.66-0.68 cores at 800 1:1
 * msgs/s (utilization about 0.5). But while the serving thread is busy with fanout, a commit on
 * it holds up the copies behind it: a 250-member group at 256 msgs/s (utilization 0.64-0.79)
 * read a last-member p99 of 29.5-38.9 ms inline against 22.1-27.2 ms with the thread, four runs
 * each. So writes stay on the serving connection only while it has plenty of room, and come
 * back once the load has clearly fallen. Samples are 500 ms, which smooths the swings.
 */
export const defaultRouteThresholds: RouteThresholds = {
  threadAbove: 0.6,
  busySamples: 2,
  inlineBelow: 0.45,
  minOffloadMs: 5_000,
};

const defaultSampleMs = 500;

/** A route that always gives the same answer (PARLEY_SQLITE_WRITE_THREAD=true or false). */
export const fixedRoute = (offload: boolean): WriteRoute => ({ offload, stop: () => {} });

export interface RouteState {
  offload: boolean;
  /** Samples in a row at or above threadAbove. */
  busyRun: number;
  /** When writes last left the serving connection. */
  offloadedAt: number;
}

export const initialRoute: RouteState = { offload: false, busyRun: 0, offloadedAt: 0 };

/** The route after a sample of `busy` taken at `now`. */
export function nextRoute(state: RouteState, busy: number, now: number, t: RouteThresholds): RouteState {
  const busyRun = busy >= t.threadAbove ? state.busyRun + 1 : 0;
  if (!state.offload) return busyRun >= t.busySamples ? { offload: true, busyRun, offloadedAt: now } : { ...state, busyRun };
  if (busy <= t.inlineBelow && now - state.offloadedAt >= t.minOffloadMs)
    return { offload: false, busyRun, offloadedAt: state.offloadedAt };
  return { ...state, busyRun };
}

/** Offloads while the serving thread is busy (see the top of this file). */
export function loadRoute(options: LoadRouteOptions): WriteRoute {
  const utilization = options.utilization ?? eventLoopUtilization();
  const now = options.now ?? (() => performance.now());
  let state = initialRoute;
  const timer = setInterval(() => {
    const busy = utilization();
    state = nextRoute(state, busy, now(), options);
    options.onSample?.(busy, state.offload);
  }, options.sampleMs ?? defaultSampleMs);
  timer.unref();
  return {
    get offload() {
      return state.offload;
    },
    stop: () => clearInterval(timer),
  };
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
