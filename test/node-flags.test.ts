// The processes that hold device streams start with the same V8 flags however they are launched:
// `npm start`, the container image and the Kubernetes gateway (scripts/cluster imports the constant).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { streamHolderNodeFlags } from "../services/runtime/node-flags.ts";

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

/** The words between `node` and the entry script of a command. */
function flagsBefore(words: string[], entry: string): string[] {
  const at = words.indexOf(entry);
  assert.ok(at > 0, `${entry} is launched`);
  return words.slice(words.indexOf("node") + 1, at);
}

test("the stream-holding processes cap V8's young generation", () => {
  assert.ok(streamHolderNodeFlags.some((flag) => /^--max-semi-space-size=\d+$/.test(flag)));
});

test("npm start, the image and the k8s gateway pass exactly those flags", () => {
  const start = (JSON.parse(read("package.json")) as { scripts: { start: string } }).scripts.start;
  assert.deepEqual(flagsBefore(start.split(/\s+/), "services/all-in-one/main.ts"), streamHolderNodeFlags);

  const cmd = /^CMD (\[.*\])$/m.exec(read("Dockerfile"))?.[1];
  assert.ok(cmd, "the Dockerfile has an exec-form CMD");
  assert.deepEqual(flagsBefore(JSON.parse(cmd) as string[], "services/all-in-one/main.ts"), streamHolderNodeFlags);

  const command = /command: (\[.*"services\/gateway\/main\.ts"\])/.exec(read("k8s/base/gateway.yaml"))?.[1];
  assert.ok(command, "the gateway container has a command");
  assert.deepEqual(flagsBefore(JSON.parse(command) as string[], "services/gateway/main.ts"), streamHolderNodeFlags);
});
