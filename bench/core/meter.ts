// Measures a window of time: CPU used by the server processes and by the load workers (cores =
// CPU seconds / wall seconds), the server's peak and final RSS (polled every 250 ms), and the
// CPU everything else on the machine used meanwhile (other people's work makes figures noisy).
import { sampleMachine, sampleProcess } from "./proc.ts";

export interface MeterReading {
  wallSeconds: number;
  serverCores: number;
  serverCpuSeconds: number;
  serverRssBytes: number;
  serverRssPeakBytes: number;
  loadCores: number;
  /** CPU used by processes that are neither the server nor the load generator. */
  otherCores: number;
}

const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + (sampleProcess(pid)?.cpuSeconds ?? 0), 0);
const rssOf = (pids: number[]) => pids.reduce((sum, pid) => sum + (sampleProcess(pid)?.rssBytes ?? 0), 0);

export class Meter {
  readonly #server: () => number[];
  readonly #load: () => number[];
  #start = { wall: 0, server: 0, load: 0, machine: 0 };
  #peak = 0;
  #timer: NodeJS.Timeout | undefined;

  /** pids are asked for at each reading, so processes that restart are followed. */
  constructor(server: () => number[], load: () => number[]) {
    this.#server = server;
    this.#load = load;
  }

  start(): void {
    this.#start = {
      wall: performance.now(),
      server: cpuOf(this.#server()),
      load: cpuOf(this.#load()),
      machine: sampleMachine().busySeconds,
    };
    this.#peak = rssOf(this.#server());
    clearInterval(this.#timer);
    this.#timer = setInterval(() => {
      this.#peak = Math.max(this.#peak, rssOf(this.#server()));
    }, 250);
    this.#timer.unref();
  }

  stop(): MeterReading {
    clearInterval(this.#timer);
    const wallSeconds = (performance.now() - this.#start.wall) / 1000;
    const serverCpu = cpuOf(this.#server()) - this.#start.server;
    const loadCpu = cpuOf(this.#load()) - this.#start.load;
    const machine = sampleMachine().busySeconds - this.#start.machine;
    const rss = rssOf(this.#server());
    return {
      wallSeconds,
      serverCores: serverCpu / wallSeconds,
      serverCpuSeconds: serverCpu,
      serverRssBytes: rss,
      serverRssPeakBytes: Math.max(this.#peak, rss),
      loadCores: loadCpu / wallSeconds,
      otherCores: Math.max(0, (machine - serverCpu - loadCpu) / wallSeconds),
    };
  }
}

/** Mean cores used by pids over ms (for an idle baseline). */
export async function coresOver(pids: () => number[], ms: number): Promise<number> {
  const start = cpuOf(pids());
  await new Promise((r) => setTimeout(r, ms));
  return (cpuOf(pids()) - start) / (ms / 1000);
}
