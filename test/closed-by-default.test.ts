// Closed unless opened on purpose, and strict keys, against the real `keyflow` command
// (DESIGN.md, Security). Each bad configuration is a real process start: it must stop with
// exit code 2 and a message naming the variable, and nothing it writes (stdout or stderr)
// may hold the secret's value. A keyless keyflow answers a foreign Host with 403 and a
// non-JSON ingest with 415; KEYFLOW_AUTH=none opens it and says so at start.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { repoRoot } from '../compose/local/index.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

const SECRET = 'TopSecretValue-4f9a2c7e1b';

/** Start `keyflow all` with only `env` (no services needed: config is read first) and collect what it writes. */
function startWith(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'runtime/cli/main.ts', 'all'], {
      cwd: repoRoot,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyflow did not stop at its configuration within 60 s; it wrote:\n${output.slice(-2000)}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('strict keys - each bad configuration stops start-up naming the variable, and never prints the secret', async () => {
  const cases: { env: Record<string, string>; names: RegExp; secret: string }[] = [
    // The reports: a two-field entry (its "name" was the secret), a bad scope.
    { env: { KEYFLOW_API_KEYS: `${SECRET}:ingest` }, names: /KEYFLOW_API_KEYS: entry 1: expected name:secret:scope\+scope/, secret: SECRET },
    { env: { KEYFLOW_API_KEYS: `ops:${SECRET}:admn` }, names: /KEYFLOW_API_KEYS: entry 1 \("ops"\): unknown scope/, secret: SECRET },
    { env: { KEYFLOW_API_KEYS: 'ops:Sh0rt-s3cret!:read' }, names: /KEYFLOW_API_KEYS: entry 1 \("ops"\): the secret has 13 characters/, secret: 'Sh0rt-s3cret!' },
    { env: { KEYFLOW_API_KEYS: 'ops:change-me-admin-4f9a2c:admin' }, names: /KEYFLOW_API_KEYS: entry 1 \("ops"\): the secret is a placeholder/, secret: 'change-me-admin-4f9a2c' },
    { env: { KEYFLOW_API_KEYS: `a:${SECRET}:read,b:${SECRET}:ingest` }, names: /KEYFLOW_API_KEYS: two entries share one secret/, secret: SECRET },
    { env: { KEYFLOW_API_KEYS: `ok:q7Vb1xT0p9LmZr3KwS5d:read,${SECRET}` }, names: /KEYFLOW_API_KEYS: entry 2: expected/, secret: SECRET },
    { env: { KEYFLOW_INTERNAL_TOKEN: 'Sh0rt-t0ken' }, names: /KEYFLOW_INTERNAL_TOKEN: at least 16 characters/, secret: 'Sh0rt-t0ken' },
    { env: { DATABASE_URL: `not-a-url-${SECRET}` }, names: /DATABASE_URL: /, secret: SECRET },
  ];
  // Three at a time: each start is a node process (about 3 s on a loaded 2-core machine).
  const outcomes: { code: number | null; output: string }[] = [];
  for (let i = 0; i < cases.length; i += 3) outcomes.push(...(await Promise.all(cases.slice(i, i + 3).map((c) => startWith(c.env)))));
  cases.forEach((c, i) => {
    const { code, output } = outcomes[i] ?? { code: null, output: '' };
    const what = JSON.stringify(Object.keys(c.env));
    assert.equal(code, 2, `${what}: exit code 2; it wrote:\n${output}`);
    assert.match(output, c.names, what);
    assert.ok(!output.includes(c.secret), `${what}: the secret is printed:\n${output}`);
  });
});

test('closed - a non-loopback KEYFLOW_HOST without keys stops start-up naming both', async () => {
  for (const { code, output } of await Promise.all(['0.0.0.0', '::'].map((host) => startWith({ KEYFLOW_HOST: host })))) {
    assert.equal(code, 2, output);
    assert.match(output, /KEYFLOW_HOST=.* is not a loopback address and KEYFLOW_API_KEYS is empty/);
    assert.match(output, /KEYFLOW_AUTH=none/);
  }
});

/** A request with a Host header of our choosing (fetch may not set it). */
function ask(url: string, path: string, host: string, init: { method?: string; contentType?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: host };
    if (init.contentType !== undefined) headers['Content-Type'] = init.contentType;
    const req = request({ hostname: u.hostname, port: u.port, path, method: init.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

let iso: Isolated;
let keyless: KeyflowProcess | undefined;
let opened: KeyflowProcess | undefined;

before(async () => {
  iso = await isolate({ KEYFLOW_WORKERS: '1' });
  [keyless, opened] = await Promise.all([startKeyflow(iso.env, 'edge'), startKeyflow({ ...iso.env, KEYFLOW_AUTH: 'none' }, 'edge')]);
});

after(async () => {
  const stopped = await Promise.all([keyless?.stop('SIGTERM'), opened?.stop('SIGTERM')]);
  await iso?.cleanup();
  for (const s of stopped) assert.equal(s?.code, 0);
});

test('closed - without keys, a foreign Host is a 403 on every route and a text/plain or form POST ingests nothing (415)', async () => {
  assert.ok(keyless !== undefined);
  const event = JSON.stringify({ id: 'cbd-1', type: 't', source: 's', occurredAt: Date.now() });
  for (const path of ['/healthz', '/v1/reports/events', '/v1/dead-letters', '/']) {
    const r = await ask(keyless.url, path, 'rebound.evil.example:8080');
    assert.equal(r.status, 403, path);
    assert.match(r.body, /"code":"forbidden_host"/);
  }
  assert.equal((await ask(keyless.url, '/v1/reports/events', 'localhost:8080')).status, 200);
  assert.equal((await ask(keyless.url, '/v1/reports/events', '[::1]:8080')).status, 200);
  for (const [path, contentType] of [['/v1/events', 'text/plain'], ['/v1/events', 'application/x-www-form-urlencoded'], ['/v1/events/stream', 'text/plain;charset=UTF-8'], ['/v1/events/stream', 'multipart/form-data; boundary=b']] as const) {
    const r = await ask(keyless.url, path, '127.0.0.1', { method: 'POST', contentType, body: event });
    assert.equal(r.status, 415, `${path} ${contentType}`);
    assert.match(r.body, /"code":"unsupported_media_type"/);
  }
  const ok = await ask(keyless.url, '/v1/events', '127.0.0.1', { method: 'POST', contentType: 'application/json', body: event });
  assert.equal(ok.status, 202, ok.body);
  assert.doesNotMatch(keyless.logs(), /KEYFLOW_AUTH=none/);
});

test('closed - KEYFLOW_AUTH=none opens a keyless keyflow on purpose and warns at start', async () => {
  assert.ok(opened !== undefined);
  assert.match(opened.logs(), /"level":"warn","msg":"KEYFLOW_AUTH=none: no API keys, every route \(erasure included\) is open/);
  assert.equal((await ask(opened.url, '/v1/reports/events', 'keyflow.example.com')).status, 200);
  assert.equal((await ask(opened.url, '/v1/events', '127.0.0.1', { method: 'POST', contentType: 'text/plain', body: '{}' })).status, 415, 'still no simple cross-site POST');
});
