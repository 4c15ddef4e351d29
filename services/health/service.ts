// The standard gRPC health service: "" and every Parley service answer SERVING until the server
// starts draining, then NOT_SERVING (so load balancers stop sending new streams).
import type { ServiceImpl } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { type Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { parleyError } from "../shared/errors.ts";

export interface HealthState {
  serving: boolean;
  /** Resolves when serving changes. */
  changed(): Promise<void>;
  setServing(serving: boolean): void;
}

export function createHealthState(): HealthState {
  let waiters: (() => void)[] = [];
  const state: HealthState = {
    serving: true,
    changed: () => new Promise((resolve) => waiters.push(resolve)),
    setServing(serving) {
      state.serving = serving;
      const current = waiters;
      waiters = [];
      for (const resolve of current) resolve();
    },
  };
  return state;
}

export function createHealthService(state: HealthState, serviceNames: string[]): ServiceImpl<typeof Health> {
  const known = new Set(["", ...serviceNames]);
  const status = () => (state.serving ? Status.SERVING : Status.NOT_SERVING);
  return {
    check(req) {
      if (!known.has(req.service)) throw parleyError(Code.NotFound, "UNKNOWN_SERVICE", `unknown service "${req.service}"`);
      return { status: status() };
    },
    async *watch(req, ctx) {
      if (!known.has(req.service)) {
        yield { status: Status.SERVICE_UNKNOWN };
        return;
      }
      const aborted = new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      for (;;) {
        yield { status: status() };
        await Promise.race([state.changed(), aborted]);
        if (ctx.signal.aborted) return;
      }
    },
  };
}
