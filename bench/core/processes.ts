// Every process the bench starts is registered here, so that a normal end, a failure or Ctrl-C
// stops all of them (SIGTERM, then SIGKILL after a grace period) and none is left behind.
import type { ChildProcess } from "node:child_process";

const children = new Map<ChildProcess, string>();

export function track(child: ChildProcess, name: string): ChildProcess {
  children.set(child, name);
  child.once("exit", () => children.delete(child));
  return child;
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Stops one child: SIGTERM (servers drain and write their CPU profile), SIGKILL after graceMs. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => alive(child) && child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(graceMs = 15_000): Promise<void> {
  await Promise.all([...children.keys()].map((child) => stopChild(child, graceMs)));
}

/** Last resort when the bench itself exits: nothing it started may survive it. */
export function killAllNow(): void {
  for (const child of children.keys()) if (alive(child)) child.kill("SIGKILL");
}

export function running(): string[] {
  return [...children].filter(([child]) => alive(child)).map(([, name]) => name);
}
