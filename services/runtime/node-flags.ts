// V8 flags for the processes that hold device streams (the all-in-one process and gateways).
//
// V8 sizes its young generation from the machine's memory: on a 24 GiB machine it grows to 128 MB
// the first time a burst of allocation (10,000 devices signing in or connecting) fills it, and
// keeps it. For a process that mostly holds idle streams that nursery is dead weight: opening
// 10,000 idle WebSocket sessions raised RSS by 18.3 KB per session, 9 KB of it the nursery's
// growth. Capped at 8 MB per semi-space the same opening costs 10.2 KB per session (33.0 KB over
// gRPC, against 40.8), heartbeats cost less CPU, and 1:1 at 4,800 msgs/s and a 250-member group at
// 256 msgs/s kept their cores and p99 (docs/benchmarks.md). Every launcher uses these:
// package.json `start`, the Dockerfile, k8s/base/gateway.yaml and scripts/cluster.
export const streamHolderNodeFlags: readonly string[] = ["--max-semi-space-size=8"];
