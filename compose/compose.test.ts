// No machine of this project has a Docker engine, so docker-compose.yml is never run here.
// This test is what stands between a typo and a user's broken `docker compose up`: it
// validates the file against the Compose Specification JSON schema (as shipped in the npm
// package `dclint`, a maintained Compose linter, so nothing is fetched at test time) and
// checks the facts a user relies on: pinned images, the host ports the project's defaults
// expect, the environment keyflow reads, healthy dependencies, and the files it mounts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { loadConfig } from '../runtime/config/index.ts';
import { generateSecrets, secretFiles } from './secrets/secrets.ts';

const here = dirname(fileURLToPath(import.meta.url));
const composeText = readFileSync(join(here, 'docker-compose.yml'), 'utf8');

/** The Compose Specification schema from dclint's package, and that package's version. */
function composeSchema(): { schema: Record<string, unknown>; source: string } {
  const pkgJson = createRequire(import.meta.url).resolve('dclint/package.json');
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  const schema = JSON.parse(
    readFileSync(join(dirname(pkgJson), 'schemas', 'compose.schema.json'), 'utf8'),
  ) as Record<string, unknown>;
  // The spec writes the draft-07 meta-schema as an https URL that Ajv does not know by that
  // name; Ajv's default dialect is draft-07 already.
  delete schema.$schema;
  return { schema, source: `dclint@${pkg.version} schemas/compose.schema.json` };
}

const { schema, source } = composeSchema();
// strictTypes off: the upstream schema leaves `type: object` implicit beside
// additionalProperties in a few places, which Ajv would only warn about.
const validateCompose = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false }).compile(schema);

/** Parse YAML as Compose does: anchors, aliases and `<<` merge keys resolved. */
const parseCompose = (text: string): unknown => parse(text, { merge: true }) as unknown;

function schemaErrors(doc: unknown): ErrorObject[] {
  return validateCompose(doc) ? [] : [...(validateCompose.errors ?? [])];
}

type Service = {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  profiles?: string[];
  ports?: (string | { published?: string | number; target: number; host_ip?: string })[];
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string | string[] };
  volumes?: (string | { type: string; source?: string })[];
  deploy?: { replicas?: number };
};
type Compose = { services: Record<string, Service> };

// Everything below reads the file as Compose would, after the schema has accepted it.
const compose = parseCompose(composeText) as Compose;

function service(name: string): Service {
  const s = compose.services[name];
  assert.ok(s, `service ${name} is defined`);
  return s;
}

/** Published ports of a service as { hostIp, host, container }. */
function published(s: Service): { hostIp: string; host: number; container: number }[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p !== 'string') {
      return { hostIp: p.host_ip ?? '', host: Number(p.published), container: p.target };
    }
    const parts = p.split(':');
    assert.equal(parts.length, 3, `port "${p}" names the host address, host port and container port`);
    const [hostIp = '', host = '', container = ''] = parts;
    return { hostIp, host: Number(host), container: Number(container) };
  });
}

const envOf = (s: Service): Record<string, string> =>
  Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));

describe('compose/docker-compose.yml', () => {
  test('the file is valid against the Compose Specification schema', () => {
    assert.deepEqual(schemaErrors(parseCompose(composeText)), [], `validated with ${source}`);
  });

  test('a copy whose ports are a string instead of a list fails the schema', () => {
    const broken = parseCompose(composeText) as { services: Record<string, Record<string, unknown>> };
    assert.ok(broken.services.postgres);
    broken.services.postgres.ports = 'oops';
    const errors = schemaErrors(broken);
    assert.ok(errors.some((e) => e.instancePath === '/services/postgres/ports' && e.keyword === 'type'), JSON.stringify(errors));
  });

  test('a copy with an unknown top-level key fails the schema', () => {
    const broken = { ...(parseCompose(composeText) as object), servicez: {} };
    const errors = schemaErrors(broken);
    assert.ok(errors.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'servicez'), JSON.stringify(errors));
  });

  test('a copy whose depends_on condition is misspelt fails the schema', () => {
    const broken = parseCompose(composeText.replace('condition: service_healthy', 'condition: service_ready'));
    assert.notDeepEqual(schemaErrors(broken), []);
  });

  test('every image is pinned to a version tag, and a service without an image builds one', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.image === undefined) {
        assert.ok(s.build, `${name} names an image or builds one`);
        continue;
      }
      const tag = /^[^:@]+(?::(?<tag>[^:@/]+))?(?:@sha256:[0-9a-f]{64})?$/.exec(s.image)?.groups?.tag;
      assert.ok(tag, `${name}: image ${s.image} has a tag`);
      assert.notEqual(tag, 'latest', `${name}: image ${s.image} is not :latest`);
      assert.match(tag, /\d/, `${name}: tag ${tag} names a version`);
    }
    assert.match(service('kafka').image ?? '', /^apache\/kafka:3\.9\.1$/);
    assert.match(service('postgres').image ?? '', /^postgres:15\.\d+/);
    assert.match(service('redis').image ?? '', /^redis:7\.\d+/);
    assert.match(service('jaeger').image ?? '', /^jaegertracing\/jaeger:2\.\d+\.\d+$/);
  });

  test('the host reaches each service on 127.0.0.1 at the ports the project defaults to', () => {
    const expected: [string, number, number][] = [
      ['postgres', 55432, 5432],
      ['redis', 56379, 6379],
      ['kafka', 59092, 59092],
      ['jaeger', 16686, 16686],
      ['jaeger', 4317, 4317],
      ['jaeger', 4318, 4318],
      ['keyflow', 8080, 8080],
    ];
    for (const [name, host, container] of expected) {
      assert.ok(
        published(service(name)).some((p) => p.host === host && p.container === container),
        `${name} publishes ${host} -> ${container}`,
      );
    }
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of published(s)) assert.equal(p.hostIp, '127.0.0.1', `${name} binds ${p.host} to 127.0.0.1 only`);
    }
  });

  test('keyflow reads DATABASE_URL, REDIS_URL and KAFKA_BROKERS that point at the compose services', () => {
    for (const name of ['keyflow', 'keyflow-edge', 'keyflow-worker']) {
      const env = envOf(service(name));
      assert.equal(env.DATABASE_URL, 'postgres://keyflow:keyflow@postgres:5432/keyflow', name);
      assert.equal(env.REDIS_URL, 'redis://redis:6379', name);
      assert.equal(env.KAFKA_BROKERS, 'kafka:9092', name);
      assert.equal(env.PORT, '8080', name);
      assert.equal(env.KEYFLOW_HOST, '0.0.0.0', name);
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://jaeger:4318', name);
      assert.equal(env.OTEL_TRACES_EXPORTER, 'otlp', name);
      assert.equal(env.OTEL_SERVICE_NAME, 'keyflow', name);
    }
  });

  test('every keyflow container reads KEYFLOW_EDGE_TOKEN from the generated, gitignored keyflow.secrets.env, and no committed value sets it', () => {
    for (const name of ['keyflow', 'keyflow-edge', 'keyflow-worker']) {
      const s = service(name) as Service & { env_file?: { path: string; required?: boolean }[] };
      assert.deepEqual(s.env_file, [{ path: 'keyflow.secrets.env', required: true }], name);
      assert.equal(envOf(s).KEYFLOW_EDGE_TOKEN, undefined, name);
    }
    assert.match(readFileSync(join(here, '..', '.gitignore'), 'utf8'), /^\*\.secrets\.env$/m);
  });

  test("keyflow's own configuration accepts the environment the file gives it, with the secrets `npm run secrets` generates", () => {
    // An unknown or invalid KEYFLOW_* variable stops keyflow at start-up; so does 0.0.0.0 without keys.
    assert.throws(() => loadConfig(envOf(service('keyflow'))), /KEYFLOW_HOST="0.0.0.0" is not a loopback address and KEYFLOW_API_KEYS is empty/);
    const config = loadConfig({ ...envOf(service('keyflow')), ...generateSecrets() });
    assert.equal(config.apiKeys.length, 3);
    assert.deepEqual(config.kafkaBrokers, ['kafka:9092']);
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
  });

  test('every keyflow service reads its secrets from the generated, gitignored compose/keyflow.secrets.env, and none is written in the file', () => {
    for (const name of ['keyflow', 'keyflow-edge', 'keyflow-worker']) {
      const s = service(name) as Service & { env_file?: (string | { path: string; required?: boolean })[] };
      assert.deepEqual(s.env_file, [{ path: 'keyflow.secrets.env', required: true }], name);
      for (const secret of ['KEYFLOW_API_KEYS', 'KEYFLOW_INTERNAL_TOKEN', 'KEYFLOW_CURSOR_SECRET', 'KEYFLOW_EDGE_TOKEN']) {
        assert.equal(envOf(s)[secret], undefined, `${name}: ${secret} is not in docker-compose.yml`);
      }
    }
    assert.equal(secretFiles.compose, join(here, 'keyflow.secrets.env'));
    const ignored = readFileSync(join(here, '..', '.gitignore'), 'utf8').split('\n');
    assert.ok(ignored.includes('*.secrets.env'), 'the generated files are gitignored');
  });

  test('keyflow starts only after postgres, redis and kafka report healthy', () => {
    const checks: Record<string, RegExp> = {
      postgres: /pg_isready/,
      redis: /redis-cli ping/,
      kafka: /\/opt\/kafka\/bin\/kafka-broker-api-versions\.sh --bootstrap-server/,
    };
    for (const name of ['keyflow', 'keyflow-edge', 'keyflow-worker']) {
      for (const dep of Object.keys(checks)) {
        assert.equal(service(name).depends_on?.[dep]?.condition, 'service_healthy', `${name} waits for ${dep}`);
      }
    }
    for (const [dep, check] of Object.entries(checks)) {
      const t = service(dep).healthcheck?.test;
      assert.match([t ?? []].flat().join(' '), check, `${dep} has a healthcheck`);
    }
  });

  test('kafka advertises kafka:9092 to containers, 127.0.0.1:59092 to the host, and creates no topic by itself', () => {
    const env = envOf(service('kafka'));
    const advertised = (env.KAFKA_ADVERTISED_LISTENERS ?? '').split(',');
    assert.ok(advertised.some((l) => l.endsWith('://kafka:9092')), env.KAFKA_ADVERTISED_LISTENERS);
    assert.ok(advertised.some((l) => l.endsWith('://127.0.0.1:59092')), env.KAFKA_ADVERTISED_LISTENERS);
    assert.ok(!advertised.some((l) => l.startsWith(`${env.KAFKA_CONTROLLER_LISTENER_NAMES}://`)), 'the controller listener is not advertised');
    assert.match(env.KAFKA_LISTENERS ?? '', new RegExp(`${env.KAFKA_CONTROLLER_LISTENER_NAMES}://:9093`));
    assert.equal(env.KAFKA_PROCESS_ROLES, 'broker,controller');
    assert.equal(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE, 'false');
    for (const key of ['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR', 'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR', 'KAFKA_DEFAULT_REPLICATION_FACTOR']) {
      assert.equal(env[key], '1', key);
    }
  });

  test('the default runs keyflow all, and the scaled profile runs an edge and replicated workers', () => {
    assert.equal(service('keyflow').profiles, undefined);
    assert.deepEqual(service('keyflow').command, ['all']);
    assert.deepEqual(service('keyflow-edge').profiles, ['scaled']);
    assert.deepEqual(service('keyflow-edge').command, ['edge']);
    assert.deepEqual(service('keyflow-worker').profiles, ['scaled']);
    assert.deepEqual(service('keyflow-worker').command, ['worker']);
    assert.ok((service('keyflow-worker').deploy?.replicas ?? 0) >= 2);
  });

  test('every file the stack builds from or mounts exists in the repository', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build) {
        const context = resolve(here, s.build.context);
        assert.ok(existsSync(join(context, s.build.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile`);
        assert.ok(existsSync(join(context, 'package-lock.json')), `${name}: build context is the repository root`);
      }
      for (const v of s.volumes ?? []) {
        const src = typeof v === 'string' ? v.split(':')[0] : v.source;
        if (src?.startsWith('.')) assert.ok(existsSync(resolve(here, src)), `${name} mounts ${src}`);
      }
    }
  });
});

describe('compose/Dockerfile', () => {
  const dockerfile = readFileSync(join(here, 'Dockerfile'), 'utf8');

  test('it builds on a pinned node 20 image and runs the compiled CLI with only production dependencies', () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20\.\d+\.\d+-[a-z]+-slim$/m);
    assert.equal(dockerfile.match(/^FROM \$\{NODE_IMAGE\} AS \w+$/gm)?.length, 2, 'two stages on the pinned image');
    assert.match(dockerfile, /^RUN npm ci\b/m);
    assert.match(dockerfile, /^RUN npm run build\b/m);
    assert.match(dockerfile, /^RUN npm ci --omit=dev\b/m);
    assert.match(dockerfile, /^ENTRYPOINT \["\/bin\/sh", "-c", "exec node --enable-source-maps --max-old-space-size=.* dist\/runtime\/cli\/main\.js .*"\]$/m);
    assert.match(dockerfile, /^CMD \["all"\]$/m);
    assert.match(dockerfile, /^USER node$/m);
  });
});

describe('compose/prometheus and compose/grafana', () => {
  const metrics = [
    'keyflow_events_accepted_total',
    'keyflow_events_rejected_total',
    'keyflow_events_consumed_total',
    'keyflow_events_deduplicated_total',
    'keyflow_events_flushed_total',
    'keyflow_flush_duration_seconds',
    'keyflow_worker_restarts_total',
  ];

  test("Prometheus scrapes keyflow's /metrics on port 8080", () => {
    const prom = parse(readFileSync(join(here, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs?: { targets: string[] }[] }[];
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'keyflow');
    assert.equal(job?.metrics_path ?? '/metrics', '/metrics');
    assert.deepEqual(job?.static_configs?.flatMap((c) => c.targets), ['keyflow:8080']);
  });

  test('the Grafana dashboard charts every keyflow metric from the provisioned Prometheus datasource', () => {
    const datasources = parse(readFileSync(join(here, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    const prometheus = datasources.datasources.find((d) => d.type === 'prometheus');
    assert.equal(prometheus?.url, 'http://prometheus:9090');
    const dashboard = JSON.parse(readFileSync(join(here, 'grafana', 'dashboards', 'keyflow.json'), 'utf8')) as {
      panels: { type: string; title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
    };
    // Rows only group panels; test/dashboard.test.ts evaluates every query against a real Prometheus.
    const charts = dashboard.panels.filter((p) => p.type !== 'row');
    const exprs = charts.flatMap((p) => p.targets.map((t) => t.expr));
    for (const metric of metrics) assert.ok(exprs.some((e) => e.includes(metric)), `a panel charts ${metric}`);
    assert.ok(exprs.some((e) => /histogram_quantile\(0\.99,.*keyflow_flush_duration_seconds_bucket/.test(e)), 'flush duration p99');
    for (const panel of charts) assert.equal(panel.datasource.uid, prometheus.uid, panel.title);
  });
});
