// serve()'s direct routes take a stream before Connect does. A route that throws costs only that
// stream (reset with INTERNAL_ERROR), never the process, and the next streams are served.
import assert from "node:assert/strict";
import { connect, constants } from "node:http2";
import { after, before, test } from "node:test";
import { silentLogger } from "../services/shared/logger.ts";
import { type Served, serve } from "../services/shared/serve.ts";

let served: Served;
before(async () => {
  served = await serve({
    routes: () => {},
    interceptors: [],
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger,
    direct: (stream, headers) => {
      if (headers[constants.HTTP2_HEADER_PATH] === "/boom") throw new Error("a fault in the route");
      if (headers[constants.HTTP2_HEADER_PATH] !== "/direct") return false;
      stream.respond({ ":status": 200 }, { endStream: true });
      return true;
    },
  });
});
after(() => served.close());

/** Opens one stream and resolves with its status, or the stream error's code. */
async function request(path: string): Promise<{ status?: number; errorCode?: string }> {
  const session = connect(`http://127.0.0.1:${served.port}`);
  session.on("error", () => {});
  try {
    return await new Promise((resolve) => {
      const stream = session.request({ ":method": "POST", ":path": path });
      stream.on("response", (headers) => resolve({ status: Number(headers[":status"]) }));
      stream.on("error", (error: NodeJS.ErrnoException) => resolve({ errorCode: error.code }));
      // A server whose route fault went unhandled answers nothing: fail in seconds, not at the runner's timeout.
      stream.setTimeout(5_000, () => resolve({ errorCode: "no answer within 5 s" }));
      stream.end();
    });
  } finally {
    session.close();
  }
}

test("a direct route that throws resets its stream; the direct route and Connect still answer", async () => {
  assert.deepEqual(await request("/boom"), { errorCode: "ERR_HTTP2_STREAM_ERROR" });
  assert.deepEqual(await request("/direct"), { status: 200 });
  const connectAnswer = await request("/parley.v1.Nothing/Here");
  assert.ok(
    connectAnswer.status !== undefined && connectAnswer.status >= 400,
    `Connect answered ${JSON.stringify(connectAnswer)}`,
  );
});
