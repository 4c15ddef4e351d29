// Offline checks of rendered Kubernetes manifests: schema validation with the JSON schemas that
// kubernetes-models bundles (no cluster, no network) and Parley's deployment policy.
import { execFileSync } from "node:child_process";
// `yaml` is installed through @opentelemetry/sdk-node; it should become a direct devDependency.
import { parseAllDocuments } from "yaml";

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are untyped JSON.
  spec?: any;
  [key: string]: unknown;
}

/** Renders a kustomization with `kubectl kustomize` and returns its objects. */
export function render(dir: string): K8sObject[] {
  const text = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(text).map((document) => {
    if (document.errors.length > 0) throw new Error(`${dir}: ${document.errors[0]?.message}`);
    return document.toJS() as K8sObject;
  });
}

/** API groups whose schemas are not bundled: operators' custom resources, checked by their admission. */
export const operatorGroups = new Set(["k8ssandra.io", "kafka.strimzi.io"]);

/** Validates one object against the bundled schema of its apiVersion and kind; returns errors. */
export async function validateSchema(object: K8sObject): Promise<string[]> {
  const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
  const path = group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`;
  let module: Record<string, unknown>;
  try {
    module = await import(path);
  } catch {
    return [`no bundled schema for ${object.apiVersion}`];
  }
  const Model = module[object.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) return [`no bundled schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [String((error as Error).message)];
  }
}

const workloadKinds = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);

function matches(selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>) {
  const wanted = Object.entries(selector?.matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([k, v]) => labels[k] === v);
}

function imageTagProblem(image: string): string | undefined {
  const withoutDigest = image.split("@")[0] ?? "";
  if (image.includes("@sha256:")) return undefined;
  const lastSegment = withoutDigest.split("/").at(-1) ?? "";
  if (!lastSegment.includes(":")) return `image ${image} has no tag`;
  if (lastSegment.endsWith(":latest")) return `image ${image} is tagged latest`;
  return undefined;
}

/**
 * Parley's deployment policy over a set of rendered objects. Every long-running workload
 * (Deployment, StatefulSet) needs readiness and liveness probes and a PodDisruptionBudget that
 * selects it; every workload (also Jobs) needs requests and limits (cpu and memory) on each
 * container, runAsNonRoot (pod or every container), and pinned image tags.
 */
export function policyViolations(objects: K8sObject[]): string[] {
  const violations: string[] = [];
  const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget");
  for (const o of objects) {
    if (!workloadKinds.has(o.kind)) continue;
    const where = `${o.kind}/${o.metadata.name}`;
    const pod = o.spec?.template?.spec ?? {};
    const labels: Record<string, string> = o.spec?.template?.metadata?.labels ?? {};
    // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are untyped JSON.
    const containers: Array<Record<string, any>> = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
    const longRunning = o.kind !== "Job";
    if (containers.length === 0) violations.push(`${where}: no containers`);
    for (const c of containers) {
      const name = `${where} container ${c.name}`;
      const isInit = (pod.initContainers ?? []).includes(c);
      if (longRunning && !isInit) {
        if (!c.readinessProbe) violations.push(`${name}: no readinessProbe`);
        if (!c.livenessProbe) violations.push(`${name}: no livenessProbe`);
      }
      for (const kind of ["requests", "limits"] as const) {
        for (const resource of ["cpu", "memory"]) {
          if (c.resources?.[kind]?.[resource] === undefined) violations.push(`${name}: no ${kind}.${resource}`);
        }
      }
      const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      if (nonRoot !== true) violations.push(`${name}: runAsNonRoot is not true`);
      if (c.securityContext?.allowPrivilegeEscalation !== false)
        violations.push(`${name}: allowPrivilegeEscalation is not false`);
      if (!(c.securityContext?.capabilities?.drop ?? []).includes("ALL"))
        violations.push(`${name}: capabilities do not drop ALL`);
      const problem = imageTagProblem(String(c.image ?? ""));
      if (problem) violations.push(`${name}: ${problem}`);
    }
    if (longRunning) {
      const namespace = o.metadata.namespace;
      const covered = pdbs.some((p) => p.metadata.namespace === namespace && matches(p.spec?.selector, labels));
      if (!covered) violations.push(`${where}: no PodDisruptionBudget selects it`);
    }
  }
  return violations;
}
