#!/usr/bin/env node
// The keyflow command. Tracing starts before anything else is loaded, so that every module
// after it sees the registered tracer provider; then the command runs.
//
//   keyflow all      edge + supervisor + workers in one process (default)
//   keyflow edge     the HTTP edge only (produces to Kafka, answers queries)
//   keyflow worker   supervisor + workers only (consumes, flushes), with health and metrics
//   keyflow migrate  apply database migrations and create partitions, then exit
import { existsSync } from 'node:fs';
import { startTracing } from '../../otel/index.ts';

const commands = ['all', 'edge', 'worker', 'migrate'] as const;
type Command = (typeof commands)[number];

const arg = process.argv[2] ?? 'all';
if (arg === '--help' || arg === '-h' || arg === 'help') {
  process.stdout.write(`usage: keyflow [${commands.join('|')}]\n`);
  process.exit(0);
}
if (!(commands as readonly string[]).includes(arg)) {
  process.stderr.write(`keyflow: unknown command "${arg}" (expected one of: ${commands.join(', ')})\n`);
  process.exit(2);
}
// Development convenience: `npm run services -- up` writes .env; real variables win.
if (existsSync('.env')) process.loadEnvFile('.env');

const tracing = await startTracing('keyflow');
const { run } = await import('./run.ts');
try {
  await run(arg as Command, tracing);
} catch (e) {
  // Refused by Kafka (credentials, ACLs): one line and exit 2, like a configuration error; run() logged it.
  if ((e as { code?: unknown }).code === 'KEYFLOW_KAFKA_ACCESS_DENIED') {
    process.stderr.write(`keyflow: ${(e as Error).message}\n`);
    process.exit(2);
  }
  throw e;
}
