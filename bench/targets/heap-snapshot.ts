// Takes a heap snapshot of a server started with --heapsnapshot-signal=SIGUSR2: signals it and
// waits for the new file to be complete (V8 writes it on the main thread, so the server answers
// its metrics endpoint again only once the snapshot is written).
import { existsSync, readdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";

export async function takeHeapSnapshot(pid: number, dir: string, name: string, answers: () => Promise<unknown>): Promise<string> {
  const before = new Set(existsSync(dir) ? readdirSync(dir) : []);
  process.kill(pid, "SIGUSR2");
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error("heap snapshot did not appear within 5 minutes");
    await new Promise((r) => setTimeout(r, 500));
    const fresh = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (!fresh) continue;
    const path = join(dir, fresh);
    const size = statSync(path).size;
    await answers();
    await new Promise((r) => setTimeout(r, 500));
    if (statSync(path).size !== size || size === 0) continue;
    const named = join(dir, `${name}.heapsnapshot`);
    renameSync(path, named);
    return named;
  }
}
