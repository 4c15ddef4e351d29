// `node bench/transport-floor.ts [connections]`: what one idle connection costs a Node server with
// nothing of Parley in it, so the idle-session figures can be read against the transport's own
// floor. For each transport a server process holds `connections` idle connections opened by a
// client process (one TCP connection each, spread over 127.x source addresses), each having
// received one small frame; the server's RSS and heap are read after a full GC, before and after.
//
//   tcp            a net.Socket per connection
//   ws             the `ws` server Parley uses, perMessageDeflate off
//   http2-compat   node:http2 with a request handler (what Connect and Parley's gRPC path use)
//   http2-stream   node:http2 'stream' events only, the leanest node:http2 can be
import { type ChildProcess, fork } from "node:child_process";
import { connect as connectHttp2, createServer as createHttp2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { connect as connectTcp, createServer as createTcpServer } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { describeMachine } from "./core/machine.ts";

const transports = ["tcp", "ws", "http2-compat", "http2-stream"] as const;
type Transport = (typeof transports)[number];

interface Usage {
  rss: number;
  heap: number;
}

const [role, transportArg, portArg, countArg] = process.argv.slice(2);

if (role === "server") runServer(transportArg as Transport);
else if (role === "client") await runClient(transportArg as Transport, Number(portArg), Number(countArg));
else await main(Number(role ?? 2_000));

async function main(connections: number): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  for (const transport of transports) {
    const server = fork(import.meta.filename, ["server", transport], { execArgv: ["--expose-gc"] });
    const { port } = await nextMessage<{ port: number }>(server);
    const before = await measure(server);
    const client = fork(import.meta.filename, ["client", transport, String(port), String(connections)]);
    const { ready, failed } = await nextMessage<{ ready: number; failed: number }>(client);
    const after = await measure(server);
    client.kill();
    server.kill();
    process.stderr.write(`${transport}: ${ready} connections, ${failed} failed\n`);
    rows.push({
      transport,
      connections: ready,
      failed,
      "RSS per connection KB": round((after.rss - before.rss) / ready / 1024),
      "heap per connection KB": round((after.heap - before.heap) / ready / 1024),
    });
  }
  console.table(rows);
  console.log(JSON.stringify({ machine: describeMachine(), rows }));
}

function runServer(transport: Transport): void {
  const frame = Buffer.alloc(10);
  const listening = (address: AddressInfo) => process.send?.({ port: address.port });
  if (transport === "tcp") {
    const server = createTcpServer((socket) => {
      socket.on("data", () => {});
      socket.on("error", () => {});
      socket.write(frame);
    });
    server.listen(0, "127.0.0.1", () => listening(server.address() as AddressInfo));
  } else if (transport === "ws") {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
    server.on("connection", (socket) => {
      socket.on("message", () => {});
      socket.on("error", () => {});
      socket.send(frame);
    });
    server.on("listening", () => listening(server.address() as AddressInfo));
  } else {
    const server =
      transport === "http2-compat"
        ? createHttp2Server((req, res) => {
            req.on("data", () => {});
            res.writeHead(200, { "content-type": "application/grpc+proto" });
            res.write(frame);
          })
        : createHttp2Server();
    if (transport === "http2-stream") {
      server.on("stream", (stream) => {
        stream.on("data", () => {});
        stream.on("error", () => {});
        stream.respond({ ":status": 200, "content-type": "application/grpc+proto" });
        stream.write(frame);
      });
    }
    server.on("session", (session) => session.on("error", () => {}));
    server.listen(0, "127.0.0.1", () => listening(server.address() as AddressInfo));
  }
  process.on("message", () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    setTimeout(() => {
      gc?.();
      const { rss, heapUsed } = process.memoryUsage();
      process.send?.({ rss, heap: heapUsed } satisfies Usage);
    }, 500);
  });
}

async function runClient(transport: Transport, port: number, count: number): Promise<void> {
  let ready = 0;
  let failed = 0;
  // Each connection settles once: its first frame, or its first error (counted, never waited on).
  const track = () => {
    let settled = false;
    const settle = (ok: boolean) => () => {
      if (settled) return;
      settled = true;
      if (ok) ready++;
      else failed++;
      if (ready + failed === count) process.send?.({ ready, failed });
    };
    return { ok: settle(true), fail: settle(false) };
  };
  for (let i = 0; i < count; i++) {
    // Paced, so the listen backlog never overflows and no SYN waits out a retransmission.
    if (i % 250 === 249) await new Promise((resolve) => setTimeout(resolve, 25));
    const localAddress = `127.0.0.${2 + (i % 50)}`;
    const connection = track();
    if (transport === "tcp") {
      const socket = connectTcp({ port, host: "127.0.0.1", localAddress });
      socket.on("error", connection.fail);
      socket.once("data", connection.ok);
    } else if (transport === "ws") {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/`, { localAddress, perMessageDeflate: false });
      socket.on("error", connection.fail);
      socket.once("message", connection.ok);
    } else {
      const session = connectHttp2(`http://127.0.0.1:${port}`, {
        createConnection: () => connectTcp({ port, host: "127.0.0.1", localAddress }),
      });
      session.on("error", connection.fail);
      const stream = session.request({ ":method": "POST", ":path": "/floor", "content-type": "application/grpc" });
      stream.on("error", connection.fail);
      stream.write(Buffer.alloc(10));
      stream.once("data", connection.ok);
    }
  }
}

function measure(server: ChildProcess): Promise<Usage> {
  const answer = nextMessage<Usage>(server);
  server.send("measure");
  return answer;
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve) => child.once("message", (message) => resolve(message as T)));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
