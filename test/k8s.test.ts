// The Kubernetes manifests (k8s/): every overlay renders with `kubectl kustomize`, every object
// validates offline against the bundled Kubernetes schemas (operator CRs excepted: their CRDs
// are not bundled), and Parley's deployment policy holds. The policy is also fed broken objects
// built here, to prove it fails when it should.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type K8sObject, operatorGroups, policyViolations, render, validateSchema } from "./helpers/k8s-policy.ts";

const overlays = ["k8s/overlays/dev", "k8s/overlays/prod"];

for (const overlay of overlays) {
  describe(overlay, () => {
    const objects = render(overlay);

    test("renders the services, the edge and their companions", () => {
      const names = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
      for (const service of ["identity", "messaging", "gateway", "fanout", "push", "edge"]) {
        assert.ok(names("Deployment").includes(service), `Deployment ${service}`);
        assert.ok(names("Service").includes(service), `Service ${service}`);
        assert.ok(names("HorizontalPodAutoscaler").includes(service), `HPA ${service}`);
      }
      assert.ok(objects.every((o) => o.kind === "Namespace" || o.metadata.namespace === "parley"));
    });

    test("every object validates against the bundled Kubernetes schemas", async () => {
      const errors: string[] = [];
      let validated = 0;
      for (const o of objects) {
        if (operatorGroups.has(o.apiVersion.split("/")[0] ?? "")) continue;
        const found = await validateSchema(o);
        validated++;
        for (const e of found) errors.push(`${o.kind}/${o.metadata.name}: ${e}`);
      }
      assert.deepEqual(errors, []);
      assert.ok(validated > 20);
    });

    test("the deployment policy holds", () => {
      assert.deepEqual(policyViolations(objects), []);
    });

    test("gateways probe gRPC health and drain for longer than PARLEY_DRAIN_TIMEOUT_MS", () => {
      const gateway = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "gateway");
      const pod = gateway?.spec.template.spec;
      const container = pod.containers[0];
      assert.equal(container.readinessProbe.grpc.port, 50051);
      assert.equal(container.livenessProbe.grpc.port, 50051);
      assert.ok(container.lifecycle.preStop);
      const drainMs = Number(container.env.find((e: { name: string }) => e.name === "PARLEY_DRAIN_TIMEOUT_MS").value);
      const preStopSeconds = Number(container.lifecycle.preStop.exec.command[1]);
      assert.ok(pod.terminationGracePeriodSeconds > preStopSeconds + drainMs / 1000);
      const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === "gateway");
      assert.ok(
        hpa?.spec.metrics.some(
          (m: { type: string; pods?: { metric: { name: string } } }) =>
            m.type === "Pods" && m.pods?.metric.name === "parley_open_streams",
        ),
      );
    });
  });
}

describe("the checks fail on broken objects", () => {
  const good = (): K8sObject[] => [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "broken", namespace: "parley" },
      spec: {
        selector: { matchLabels: { app: "broken" } },
        template: {
          metadata: { labels: { app: "broken" } },
          spec: {
            securityContext: { runAsNonRoot: true },
            containers: [
              {
                name: "c",
                image: "ghcr.io/parley-chat/parley:0.1.0",
                readinessProbe: { grpc: { port: 50051 } },
                livenessProbe: { grpc: { port: 50051 } },
                resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "broken", namespace: "parley" },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: "broken" } } },
    },
  ];
  const first = (objects: K8sObject[]) => objects[0] as K8sObject;
  const container = (objects: K8sObject[]) => first(objects).spec.template.spec.containers[0];

  test("the well-formed pair passes", async () => {
    assert.deepEqual(policyViolations(good()), []);
    for (const o of good()) assert.deepEqual(await validateSchema(o), []);
  });

  const cases: Array<[string, (objects: K8sObject[]) => void, RegExp]> = [
    ["missing readiness probe", (o) => delete container(o).readinessProbe, /no readinessProbe/],
    ["missing liveness probe", (o) => delete container(o).livenessProbe, /no livenessProbe/],
    ["missing limits", (o) => delete container(o).resources.limits, /no limits\.cpu/],
    ["missing memory request", (o) => delete container(o).resources.requests.memory, /no requests\.memory/],
    ["missing PDB", (o) => o.splice(1), /no PodDisruptionBudget/],
    [
      "PDB selecting other pods",
      (o) => {
        (o[1] as K8sObject).spec.selector.matchLabels.app = "other";
      },
      /no PodDisruptionBudget/,
    ],
    ["runAsNonRoot missing", (o) => delete first(o).spec.template.spec.securityContext, /runAsNonRoot/],
    [
      "image tagged latest",
      (o) => {
        container(o).image = "ghcr.io/parley-chat/parley:latest";
      },
      /tagged latest/,
    ],
    [
      "untagged image",
      (o) => {
        container(o).image = "ghcr.io/parley-chat/parley";
      },
      /no tag/,
    ],
  ];
  for (const [name, breakIt, expected] of cases) {
    test(`policy: ${name}`, () => {
      const objects = good();
      breakIt(objects);
      const violations = policyViolations(objects);
      assert.ok(
        violations.some((v) => expected.test(v)),
        `expected ${expected} in ${JSON.stringify(violations)}`,
      );
    });
  }

  test("schema: a wrongly typed field fails offline validation", async () => {
    const objects = good();
    container(objects).ports = [{ containerPort: "fifty" }];
    const errors = await validateSchema(first(objects));
    assert.ok(
      errors.some((e) => /containerPort must be integer/.test(e)),
      JSON.stringify(errors),
    );
  });

  test("schema: an unknown kind has no schema", async () => {
    const errors = await validateSchema({ apiVersion: "apps/v1", kind: "Nonsense", metadata: { name: "x" } });
    assert.ok(errors.some((e) => /no bundled schema/.test(e)));
  });
});
