import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { run } from '../local/exec.ts';
import { repoRoot } from '../local/settings.ts';
import { parseApiKeys } from '../../runtime/config/index.ts';
import { ensureKustomize } from './kustomize.ts';
import { ensureSecretFile } from '../secrets/secrets.ts';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };
type Model = new (data: unknown) => { validate(): void };
type Labels = Record<string, string>;
type Probe = { httpGet: { path: string } };
type Container = {
  args: string[];
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources: { requests: Labels; limits: Labels };
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
  ports: { containerPort: unknown }[];
};
type Deployment = Obj & {
  spec: {
    replicas?: number;
    selector: { matchLabels: Labels };
    template: {
      metadata: { labels: Labels };
      spec: { terminationGracePeriodSeconds: number; securityContext: { runAsNonRoot: boolean; runAsUser: number }; containers: Container[] };
    };
  };
};
type ConfigMap = Obj & { data: Labels };
type Secret = Obj & { data: Labels };
type Service = Obj & { spec: { selector: Labels } };
type Budget = Obj & { spec: { selector: { matchLabels: Labels } } };
type Autoscaler = Obj & { spec: { scaleTargetRef: unknown; metrics: unknown; maxReplicas: number } };
type Kinds = { ConfigMap: ConfigMap; Secret: Secret; Deployment: Deployment; Service: Service; PodDisruptionBudget: Budget; HorizontalPodAutoscaler: Autoscaler };

// A copy of compose/k8s with the keyflow.secrets.env `npm run secrets` generates (the repo has none).
let copy: Promise<string> | undefined;
function k8sWithSecrets(): Promise<string> {
  return (copy ??= (async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'keyflow-k8s-')), 'k8s');
    await cp(join(repoRoot, 'compose', 'k8s'), dir, { recursive: true, filter: (p) => !p.endsWith('secrets.env') });
    await ensureSecretFile(join(dir, 'base', 'keyflow.secrets.env'), { DATABASE_URL: 'postgres://keyflow@postgres:5432/keyflow', REDIS_URL: 'redis://redis:6379' });
    return dir;
  })());
}
after(async () => {
  if (copy !== undefined) await rm(join(await copy, '..'), { recursive: true, force: true });
});

/** `kustomize build` of an overlay, as plain objects. */
async function render(overlay: string): Promise<Obj[]> {
  const kustomize = await ensureKustomize();
  const out = await run(kustomize, ['build', join(await k8sWithSecrets(), 'overlays', overlay)]);
  const objs = parseAllDocuments(out).map((d) => d.toJS() as Obj);
  // kustomize folds a long base64 value at 70 columns; the API server's decoder skips the line
  // breaks, the schema's "byte" format does not: unfold before validating.
  for (const o of objs) {
    if (o.kind === 'Secret') (o as Secret).data = Object.fromEntries(Object.entries((o as Secret).data).map(([k, v]) => [k, v.replace(/\s+/g, '')]));
  }
  return objs;
}

/** Validate against the Kubernetes OpenAPI schema of its apiVersion/kind (kubernetes-models). */
async function validate(o: Obj): Promise<void> {
  const module = (await import(`kubernetes-models/${o.apiVersion}`)) as Record<string, Model | undefined>;
  const M = module[o.kind];
  assert.ok(M, `no model for ${o.apiVersion} ${o.kind}`);
  new M(o).validate();
}

function only<K extends keyof Kinds>(objs: Obj[], kind: K): Kinds[K][] {
  return objs.filter((o) => o.kind === kind) as Kinds[K][];
}

function first<T>(items: T[]): T {
  assert.ok(items[0] !== undefined, 'one object at least');
  return items[0];
}

function container(d: Deployment): Container {
  const [c, ...rest] = d.spec.template.spec.containers;
  assert.ok(c !== undefined && rest.length === 0, `${d.metadata.name} runs one container`);
  return c;
}

function matches(selector: Labels, labels: Labels | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Every KEYFLOW_* name runtime/config/config.ts knows (an unknown one stops start-up). */
async function knownConfigNames(): Promise<Set<string>> {
  const source = await readFile(join(repoRoot, 'runtime', 'config', 'config.ts'), 'utf8');
  return new Set(source.match(/\b(KEYFLOW_[A-Z0-9_]+|DATABASE_URL|REDIS_URL|KAFKA_BROKERS|PORT)\b/g));
}

/** What every overlay promises, beyond the schemas. */
async function checkInvariants(objs: Obj[]): Promise<void> {
  const names = await knownConfigNames();
  const configMaps = only(objs, 'ConfigMap');
  const secrets = only(objs, 'Secret');
  const deployments = only(objs, 'Deployment');
  for (const cm of configMaps) for (const key of Object.keys(cm.data)) assert.ok(names.has(key), `ConfigMap key ${key} is a keyflow variable`);
  for (const s of secrets) for (const key of Object.keys(s.data)) assert.ok(names.has(key), `Secret key ${key} is a keyflow variable`);
  // The Secret is generated: every key it holds passes the rules keyflow starts with.
  const secretEnv = Object.fromEntries(secrets.flatMap((s) => Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])));
  assert.equal(parseApiKeys(secretEnv['KEYFLOW_API_KEYS'] ?? '').problems.length, 0);
  assert.equal(parseApiKeys(secretEnv['KEYFLOW_API_KEYS'] ?? '').keys.length, 3);
  assert.ok(!configMaps.some((cm) => 'DATABASE_URL' in cm.data || 'KEYFLOW_API_KEYS' in cm.data), 'secrets are not in the ConfigMap');

  for (const d of deployments) {
    const pod = d.spec.template.spec;
    const c = container(d);
    assert.equal(c.startupProbe.httpGet.path, '/healthz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    // The grace period covers the preStop pause plus the drain deadline, with room to spare.
    const cm = configMaps.find((m) => c.envFrom.some((e) => e.configMapRef?.name === m.metadata.name));
    assert.ok(cm, `${d.metadata.name} takes its config from a rendered ConfigMap`);
    assert.ok(secrets.some((s) => c.envFrom.some((e) => e.secretRef?.name === s.metadata.name)), `${d.metadata.name} takes secrets from a rendered Secret`);
    const pause = c.lifecycle?.preStop?.exec ? Number(c.lifecycle.preStop.exec.command.at(-1)) : 0;
    const drainMs = Number(cm.data.KEYFLOW_SHUTDOWN_TIMEOUT_MS);
    assert.equal(drainMs, 9000);
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > pause * 1000 + drainMs, `${d.metadata.name} grace above preStop + drain`);
    // Non-root, no privilege escalation, read-only root.
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    for (const r of ['cpu', 'memory']) {
      assert.ok(c.resources.requests[r] && c.resources.limits[r], `${d.metadata.name} ${r} request and limit`);
    }
    assert.ok(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), 'selector matches its pods');
    // Every pod is covered by exactly one PodDisruptionBudget.
    const pdbs = only(objs, 'PodDisruptionBudget').filter((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
    assert.equal(pdbs.length, 1, `${d.metadata.name} has one PodDisruptionBudget`);
  }
}

function role(d: Deployment): string | undefined {
  return container(d).args[0];
}

test('k8s - overlay all: one Deployment of `keyflow all` behind the Service, every object valid', async () => {
  const objs = await render('all');
  for (const o of objs) await validate(o);
  await checkInvariants(objs);
  const deployments = only(objs, 'Deployment');
  assert.equal(deployments.length, 1);
  const deployment = first(deployments);
  assert.equal(role(deployment), 'all');
  assert.deepEqual(container(deployment).resources, {
    requests: { cpu: '1', memory: '512Mi' },
    limits: { cpu: '2', memory: '1Gi' },
  });
  const service = first(only(objs, 'Service'));
  assert.ok(matches(service.spec.selector, deployment.spec.template.metadata.labels));
  assert.deepEqual(only(objs, 'HorizontalPodAutoscaler'), []);
});

test('k8s - overlay scaled: edge and worker Deployments, CPU autoscaling of the workers, the Service on the edges only', async () => {
  const objs = await render('scaled');
  for (const o of objs) await validate(o);
  await checkInvariants(objs);
  const deployments = only(objs, 'Deployment');
  assert.deepEqual(deployments.map(role).sort(), ['edge', 'worker']);
  const edge = first(deployments.filter((d) => role(d) === 'edge'));
  const worker = first(deployments.filter((d) => role(d) === 'worker'));
  const service = first(only(objs, 'Service'));
  assert.ok(matches(service.spec.selector, edge.spec.template.metadata.labels), 'the Service selects the edges');
  assert.ok(!matches(service.spec.selector, worker.spec.template.metadata.labels), 'and not the workers');
  const hpas = only(objs, 'HorizontalPodAutoscaler');
  assert.equal(hpas.length, 1);
  const hpa = first(hpas);
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: worker.metadata.name });
  assert.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
  assert.equal(worker.spec.replicas, undefined, 'the autoscaler owns the worker replicas');
  // No more worker pods than there are Kafka consumers' worth of partitions.
  const cm = first(only(objs, 'ConfigMap'));
  assert.ok(hpa.spec.maxReplicas * Number(cm.data.KEYFLOW_WORKERS) <= Number(cm.data.KEYFLOW_PARTITIONS));
});

test('k8s - the schema validation refuses a malformed object (so the tests above can fail)', async () => {
  const deployment = first(only(await render('all'), 'Deployment'));
  first(container(deployment).ports).containerPort = 'http';
  await assert.rejects(validate(deployment), /containerPort must be integer/);
  await assert.rejects(validate({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } }), /no model/);
});
