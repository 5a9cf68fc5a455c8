// The Kubernetes manifests under deploy/, checked without a cluster: kubectl renders each
// kustomization, kubernetes-models validates every object against the Kubernetes schemas
// (and the Prometheus Operator's for the ServiceMonitor), and the test reads the things a
// platform team relies on: probes, token, non-root, resources, the command of the image.
import test from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { promisify } from "node:util";
import which from "which";
import { parse, parseAllDocuments } from "yaml";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { repoRoot } from "./support/server.js";
import type { PodRun } from "./support/read-only-root.js";

const run = promisify(execFile);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: any };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ModelClass = new (data: any) => { validate(): void };

/** The one model per kind the manifests may contain; a kind missing here fails the test. */
const MODELS: Record<string, ModelClass> = {
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};

/** The command the container runs under the image's ENTRYPOINT (issue 14: the names every part shares). */
const COMMAND =
  "glasspane server --host 0.0.0.0 --port 2468 --desktop --metrics-port 9464 --metrics-host 0.0.0.0 --state-dir /var/lib/glasspane";
const STATE_DIR = "/var/lib/glasspane";
const METRICS_PORT = 9464;
const HTTP_PORT = 2468;

async function kubectl(): Promise<string> {
  const found = await which("kubectl", { nothrow: true });
  assert.ok(found, "kubectl is missing: install Debian's kubernetes-client (scripts/setup.sh --test does)");
  return found;
}

/** `kubectl kustomize DIR`, parsed into objects. */
async function render(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run(await kubectl(), ["kustomize", path.join(repoRoot, dir)], { timeout: 60_000, maxBuffer: 16 << 20 });
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(stdout)) {
    assert.equal(doc.errors.length, 0, `${dir}: ${doc.errors.join("; ")}`);
    const obj = doc.toJS() as K8sObject | null;
    if (obj) objects.push(obj);
  }
  assert.ok(objects.length > 0, `${dir} rendered nothing`);
  return objects;
}

function validateAll(dir: string, objects: K8sObject[]) {
  for (const obj of objects) {
    const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
    assert.ok(Model, `${dir}: no model for ${obj.apiVersion} ${obj.kind} (add it to MODELS)`);
    assert.doesNotThrow(() => new Model(obj).validate(), `${dir}: ${obj.kind} ${obj.metadata.name} is invalid`);
  }
}

function one(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0];
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** What every overlay must hold for the runtime pod. */
function checkRuntime(objects: K8sObject[]) {
  const sts = one(objects, "StatefulSet");
  const pod = sts.spec.template.spec;
  const podLabels = sts.spec.template.metadata.labels;
  assert.ok(matches(sts.spec.selector.matchLabels, podLabels), "the StatefulSet selects its own pods");
  assert.equal(pod.containers.length, 1, "one runtime per pod");
  const c = pod.containers[0];

  // the image and its command
  assert.match(c.image, /(^|\/)glasspane:[\w.-]+$/, "the glasspane image with a tag");
  assert.equal(c.command, undefined, "the image's ENTRYPOINT (tini as PID 1) is kept");
  assert.equal(c.args.join(" "), COMMAND);

  // ports and probes: all probes on the metrics listener, which serves health without a token
  const port = (name: string) => c.ports.find((p: { name: string }) => p.name === name)?.containerPort;
  assert.equal(port("http"), HTTP_PORT);
  assert.equal(port("metrics"), METRICS_PORT);
  const probePort = (probe: { httpGet: { port: string | number } }) =>
    typeof probe.httpGet.port === "string" ? port(probe.httpGet.port) : probe.httpGet.port;
  for (const [name, p] of [["livenessProbe", "/v1/health"], ["readinessProbe", "/v1/health/ready"], ["startupProbe", "/v1/health"]]) {
    assert.ok(c[name]?.httpGet, `${name} is an HTTP probe`);
    assert.equal(c[name].httpGet.path, p, `${name} path`);
    assert.equal(probePort(c[name]), METRICS_PORT, `${name} on the metrics port`);
    assert.equal(c[name].httpGet.httpHeaders, undefined, `${name} needs no token`);
  }

  // the token comes from a Secret, never inline
  const token = c.env.filter((e: { name: string }) => e.name === "GLASSPANE_TOKEN");
  assert.equal(token.length, 1, "GLASSPANE_TOKEN is set once");
  assert.equal(token[0].value, undefined, "no token value in the manifest");
  const ref = token[0].valueFrom?.secretKeyRef;
  assert.ok(ref?.name && ref?.key, "GLASSPANE_TOKEN comes from a Secret");
  assert.notEqual(ref.optional, true, "the token Secret is required");

  // non-root, no privileges, read-only root with writable /tmp and state directory
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, 10001);
  assert.equal(pod.securityContext.runAsGroup, 10001);
  assert.equal(pod.securityContext.fsGroup, 10001);
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
  assert.equal(c.securityContext.capabilities.add, undefined);
  assert.notEqual(c.securityContext.privileged, true);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  const mount = (at: string) => c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === at)?.name;
  const tmp = pod.volumes.find((v: { name: string }) => v.name === mount("/tmp"));
  assert.ok(tmp?.emptyDir, "/tmp is an emptyDir (X sockets and locks)");
  const state = sts.spec.volumeClaimTemplates.find((t: { metadata: { name: string } }) => t.metadata.name === mount(STATE_DIR));
  assert.ok(state, `${STATE_DIR} is the pod's own claim`);
  assert.ok(state.spec.resources.requests.storage, "the state claim asks for a size");
  const home = c.env.find((e: { name: string }) => e.name === "HOME")?.value;
  assert.ok(home === STATE_DIR || home?.startsWith("/tmp"), "HOME is writable under the read-only root");

  // requests and limits, requests within limits
  for (const r of ["cpu", "memory"]) {
    assert.ok(c.resources.requests?.[r], `request ${r}`);
    assert.ok(c.resources.limits?.[r], `limit ${r}`);
    assert.ok(quantity(c.resources.requests[r]) <= quantity(c.resources.limits[r]), `${r} request <= limit`);
  }

  // the headless Service names the pods; the normal one serves both ports
  const headless = one(objects, "Service", sts.spec.serviceName);
  assert.equal(headless.spec.clusterIP, "None");
  const services = objects.filter((o) => o.kind === "Service");
  assert.equal(services.length, 2, "a headless and a normal Service");
  for (const svc of services) {
    assert.ok(matches(svc.spec.selector, podLabels), `Service ${svc.metadata.name} selects the runtime pods`);
    assert.deepEqual(
      svc.spec.ports.map((p: { name: string; port: number; targetPort: string }) => [p.name, p.port, port(p.targetPort)]),
      [["http", HTTP_PORT, HTTP_PORT], ["metrics", METRICS_PORT, METRICS_PORT]],
    );
  }
  const pdb = one(objects, "PodDisruptionBudget");
  assert.ok(matches(pdb.spec.selector.matchLabels, podLabels), "the PodDisruptionBudget covers the runtime pods");
  return { sts, c, ref, services, headless };
}

/** CPU in cores, memory in bytes: enough of Kubernetes' quantity syntax to compare two. */
function quantity(q: string | number): number {
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  assert.ok(m, `quantity ${q}`);
  const unit: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? unit[m[2]] : 1);
}

/** Every kustomization.yaml under deploy/. */
function kustomizations(dir = path.join(repoRoot, "deploy")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? kustomizations(path.join(dir, e.name)) : e.name === "kustomization.yaml" ? [dir] : []);
}

// Debian 12's kubectl (1.20, kustomize v2.0.3) is what setup installs where no kubectl is; a newer
// one renders this subset too, so the test holds the files to it whichever kubectl renders them.
test("every kustomization keeps to what Debian 12's kubectl renders", () => {
  const known = new Set(["apiVersion", "kind", "resources", "bases", "namespace", "images", "secretGenerator", "patchesStrategicMerge"]);
  const dirs = kustomizations();
  assert.ok(dirs.length >= 5, `kustomizations found: ${dirs.join(", ")}`);
  for (const dir of dirs) {
    const k = parse(readFileSync(path.join(dir, "kustomization.yaml"), "utf8")) as Record<string, unknown>;
    for (const key of Object.keys(k)) assert.ok(known.has(key), `${dir}: ${key} is newer than kustomize v2.0.3`);
    for (const r of (k.resources ?? []) as string[]) assert.ok(statSync(path.join(dir, r)).isFile(), `${dir}: resource ${r} must be a file (a directory goes under bases)`);
  }
});

test("the base renders and every object is valid", async () => {
  validateAll("deploy/base", await render("deploy/base"));
});

test("dev overlay: one pod from the local image, a generated placeholder token, no monitoring kinds", async () => {
  const objects = await render("deploy/overlays/dev");
  validateAll("deploy/overlays/dev", objects);
  const { sts, c, ref } = checkRuntime(objects);
  assert.ok(sts.spec.replicas === undefined || sts.spec.replicas === 1, "one pod");
  assert.equal(c.image, "localhost/glasspane:latest");
  const secret = one(objects, "Secret", ref.name);
  assert.ok(secret.data?.[ref.key], "the generated Secret holds the key the pod reads");
  for (const o of objects) if (o.kind !== "Namespace") assert.equal(o.metadata.namespace, "glasspane-dev", `${o.kind} ${o.metadata.name}`);
  assert.equal(objects.filter((o) => o.kind === "ServiceMonitor" || o.kind === "HorizontalPodAutoscaler").length, 0);
});

test("production overlay: user-made token Secret, scraped, autoscaled on desktops in use", async () => {
  const objects = await render("deploy/overlays/production");
  validateAll("deploy/overlays/production", objects);
  const { sts, c, ref, services, headless } = checkRuntime(objects);
  assert.equal(sts.spec.replicas, undefined, "the autoscaler owns the pod count");
  assert.equal(objects.filter((o) => o.kind === "Secret").length, 0, "no Secret in the repository: the user creates it");
  assert.equal(ref.name, "glasspane-token");
  assert.notEqual(c.imagePullPolicy, "Never");

  // the ServiceMonitor scrapes the metrics port of the normal Service only (once per pod)
  const sm = one(objects, "ServiceMonitor");
  const scraped = services.filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels));
  assert.deepEqual(scraped.map((s) => s.metadata.name), services.filter((s) => s !== headless).map((s) => s.metadata.name));
  assert.deepEqual(sm.spec.endpoints.map((e: { port: string; path: string }) => [e.port, e.path]), [["metrics", "/metrics"]]);

  // the token-free ops port is reachable from the monitoring namespace only
  const np = one(objects, "NetworkPolicy");
  assert.ok(matches(np.spec.podSelector.matchLabels, sts.spec.template.metadata.labels), "the NetworkPolicy covers the runtime pods");
  const opens = (p: string) => np.spec.ingress.filter((r: { ports: { port: string }[] }) => r.ports.some((x) => x.port === p));
  assert.equal(opens("metrics").length, 1);
  assert.ok(opens("metrics")[0].from?.length > 0, "the metrics port is not open to everyone");

  // the HPA scales this StatefulSet on the metric the prometheus-adapter rule serves
  const hpa = one(objects, "HorizontalPodAutoscaler");
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "StatefulSet", name: sts.metadata.name });
  assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
  assert.equal(hpa.spec.metrics.length, 1);
  const metric = hpa.spec.metrics[0];
  assert.equal(metric.type, "Pods");
  const target = quantity(metric.pods.target.averageValue);
  assert.ok(target > 0 && target < 1, "a share of capacity, leaving free desktops per pod");

  const adapter = await render("deploy/prometheus-adapter");
  validateAll("deploy/prometheus-adapter", adapter);
  const rules = parse(one(adapter, "ConfigMap").data["config.yaml"]).rules as {
    seriesQuery: string; name: { as: string }; metricsQuery: string; resources: { overrides: Record<string, { resource: string }> };
  }[];
  const rule = rules.find((r) => r.name.as === metric.pods.metric.name);
  assert.ok(rule, `an adapter rule serves ${metric.pods.metric.name}`);
  assert.match(rule.seriesQuery, /^'?glasspane_desktops_in_use\{/);
  assert.match(rule.metricsQuery, /glasspane_desktops_in_use\{<<\.LabelMatchers>>\}[\s\S]*\/[\s\S]*glasspane_desktops_capacity\{<<\.LabelMatchers>>\}/);
  assert.equal(rule.resources.overrides.pod.resource, "pod");
});

// readOnlyRootFilesystem is only true if the runtime lives with it: run it as the pod runs it
// (its user and groups, read-only root, the StatefulSet's emptyDirs as tmpfs, its claim as a
// directory writable through fsGroup, its env), in its own network and pid namespace, and use
// what writes files.
test("the runtime works as the pod's non-root user on a read-only root with the pod's mounts", async () => {
  const bwrap = await which("bwrap", { nothrow: true });
  assert.ok(bwrap, "bwrap is missing: install Debian's bubblewrap (scripts/setup.sh --test does)");
  const objects = await render("deploy/overlays/production");
  const sts = one(objects, "StatefulSet");
  const pod = sts.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.args[0], "glasspane");
  const port = (name: string) => c.ports.find((p: { name: string }) => p.name === name).containerPort as number;
  const podRun: PodRun = {
    args: c.args.slice(1), apiPort: port("http"), metricsPort: port(c.readinessProbe.httpGet.port),
    livenessPath: c.livenessProbe.httpGet.path, readinessPath: c.readinessProbe.httpGet.path,
  };
  const claim = mkdtempSync(path.join(os.tmpdir(), "glasspane-ro-state-"));
  try {
    const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
    for (const m of c.volumeMounts as { name: string; mountPath: string }[]) {
      if (pod.volumes.find((v: { name: string }) => v.name === m.name)?.emptyDir) args.push("--tmpfs", m.mountPath);
      else {
        assert.ok(sts.spec.volumeClaimTemplates.some((t: { metadata: { name: string } }) => t.metadata.name === m.name), `mount ${m.name}`);
        // the claim's mount point does not exist on this machine's root: make it on a tmpfs that is then read-only again
        const parent = path.dirname(m.mountPath);
        args.push("--tmpfs", parent, "--bind", claim, m.mountPath, "--remount-ro", parent);
      }
    }
    // the app itself, as the image holds it: a checkout under /tmp is hidden by the pod's /tmp
    args.push("--ro-bind", repoRoot, repoRoot);
    args.push("--unshare-net", "--unshare-pid", "--die-with-parent", "--clearenv", "--setenv", "PATH", process.env.PATH ?? "/usr/bin:/bin");
    for (const e of c.env as { name: string; value?: string }[]) if (e.value !== undefined) args.push("--setenv", e.name, e.value);
    // the Secret's value, as the env entry that reads it names it
    args.push("--setenv", "GLASSPANE_TOKEN", "read-only-root-test-token");
    args.push(process.execPath, path.join(repoRoot, "dist", "test", "support", "read-only-root.js"), JSON.stringify(podRun));
    // as the pod's user, group and fsGroup, which owns the claim as Kubernetes makes it
    const { runAsUser, runAsGroup, fsGroup } = pod.securityContext;
    chownSync(claim, 0, fsGroup);
    chmodSync(claim, 0o2770);
    const asPodUser = [`--reuid=${runAsUser}`, `--regid=${runAsGroup}`, `--groups=${fsGroup}`];
    const { stdout } = await run("setpriv", [...asPodUser, bwrap, ...args], { timeout: 240_000, maxBuffer: 4 << 20 });
    const r = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;
    assert.equal(r.rootWrite, "EROFS", "the root is read-only in the sandbox");
    assert.equal(r.uid, runAsUser, "the runtime runs as the pod's user");
    assert.equal(r.error, undefined, `${r.error} (${r.stderr})`);
    assert.equal(r.ready, 200, `the readiness probe passes on the ops port (${r.stderr})`);
    assert.equal(r.live, 200, "the liveness probe passes");
    assert.equal(r.metrics, 200, "the ops port serves /metrics without a token");
    assert.equal(r.desktopsInUse, "1", "the default desktop counts as in use");
    assert.equal(r.apiWithoutToken, 401, "the API port wants the token");
    for (const k of ["screenshot", "launch", "recordingStart", "recordingStop", "browser", "stream"]) assert.equal(r[k], 200, `${k} (${r.stderr})`);
    // what the runtime wrote went to the claim
    assert.ok(existsSync(path.join(claim, "desktop", "recordings")), "recordings on the claim");
    assert.ok(readdirSync(path.join(claim, "desktop", "recordings")).some((f) => f.endsWith(".mp4")), "the recording's file on the claim");
  } finally {
    rmSync(claim, { recursive: true, force: true });
  }
});
