// The native Python client (clients/python/parley_chat.py) as a child process, for the edge tests:
// JSON lines in on stdin, JSON lines out on stdout.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { edgeCacheDir, repoRoot } from "../../scripts/edge/render.ts";
import { eventually } from "../helpers/parley.ts";

export const python = join(edgeCacheDir(), "py-client/venv/bin/python");
export const script = join(repoRoot, "clients/python/parley_chat.py");
export const pyEnv = { ...process.env, PARLEY_EDGE_CACHE: edgeCacheDir(), PYTHONUNBUFFERED: "1" };
const TIMEOUT = 15_000;

export interface Line {
  type: string;
  [key: string]: unknown;
}

/** The Python client as a child process: JSON lines in on stdin, JSON lines out on stdout. */
export class PythonChat {
  readonly lines: Line[] = [];
  readonly exited: Promise<number | null>;
  readonly stderr: string[] = [];
  readonly #child: ChildProcess;
  constructor(args: string[]) {
    this.#child = spawn(python, [script, ...args], { env: pyEnv, stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stderr?.on("data", (d) => this.stderr.push(String(d)));
    if (this.#child.stdout) createInterface({ input: this.#child.stdout }).on("line", (l) => this.lines.push(JSON.parse(l)));
    this.exited = new Promise((ok) => this.#child.once("exit", (code) => ok(code)));
  }
  tell(instruction: object): void {
    this.#child.stdin?.write(`${JSON.stringify(instruction)}\n`);
  }
  async line(type: string): Promise<Line> {
    await eventually(`python prints ${type}\n${this.stderr.join("")}`, () => this.lines.some((l) => l.type === type), TIMEOUT);
    return this.lines.find((l) => l.type === type) as Line;
  }
  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill("SIGKILL");
  }
}
