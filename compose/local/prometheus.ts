// Prometheus from the Debian package, scraping keyflow processes found through file-based
// service discovery, with keyflow's alerting rules loaded.
// Rule: the configuration is generated at every start (edits are lost) and names its
// targets only through files in a `targets/` folder, so a test or an operator adds a keyflow
// process by writing one JSON file, without a restart. Bound to 127.0.0.1.
import { spawn } from 'node:child_process';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { which } from './apt.ts';
import { fileTail } from './files.ts';
import { isRunning, livePid, terminate, writePidFile } from './pids.ts';
import { say } from './progress.ts';
import { ServiceStartError, type LocalService } from './service.ts';
import { repoRoot } from './settings.ts';

/** keyflow's alerting rules (checked by `promtool check rules` in the tests). */
export const alertRulesFile: string = join(repoRoot, 'compose', 'prometheus', 'alerts.yml');

/** One file_sd entry: where keyflow processes answer /metrics, and labels for them. */
export type ScrapeTargets = { readonly targets: readonly string[]; readonly labels?: Readonly<Record<string, string>> };

export type PrometheusOptions = Readonly<{
  /** Folder for the config, the targets, the data and the log. */
  dir: string;
  host: string;
  port: number;
  scrapeIntervalS: number;
  /** Written to `targets/keyflow.json`. */
  targets: readonly ScrapeTargets[];
  ruleFiles?: readonly string[];
}>;

/** A Prometheus we started. */
export type RunningPrometheus = Readonly<{
  url: string;
  pid: number;
  /** Replace the targets of `targets/keyflow.json`; Prometheus picks them up by itself. */
  setTargets(targets: readonly ScrapeTargets[]): Promise<void>;
  stop(): Promise<void>;
}>;

export const prometheusService: LocalService = {
  name: 'prometheus',
  endpoint: (s) => ({ host: s.host, port: s.prometheusPort }),
  missingPackages: async () => ((await which('prometheus')) ? [] : ['prometheus']),
  start: async (s) => {
    await startPrometheus({
      dir: join(s.servicesDir, 'prometheus'),
      host: s.host,
      port: s.prometheusPort,
      scrapeIntervalS: s.profile === 'test' ? 1 : 5,
      // `npm start`'s default port; scaled deployments add their own target files.
      targets: [{ targets: ['127.0.0.1:8080'], labels: { role: 'all' } }],
      ruleFiles: [alertRulesFile],
    });
  },
  stop: async (s) => {
    const pid = await livePid(join(s.servicesDir, 'prometheus', 'prometheus.pid'), 'prometheus');
    if (pid === undefined) return false;
    await terminate(pid, 10_000);
    return true;
  },
};

/**
 * The configuration Prometheus runs with (JSON is YAML, so no YAML writer is needed).
 *
 * @example
 * prometheusConfig({ dir: '/tmp/p', host: '127.0.0.1', port: 59090, scrapeIntervalS: 1, targets: [] });
 */
export function prometheusConfig(o: PrometheusOptions): string {
  const interval = `${o.scrapeIntervalS}s`;
  return `${JSON.stringify(
    {
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      rule_files: o.ruleFiles ?? [],
      scrape_configs: [
        {
          job_name: 'keyflow',
          metrics_path: '/metrics',
          file_sd_configs: [{ files: [join(o.dir, 'targets', '*.json')], refresh_interval: '5s' }],
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/**
 * Start a Prometheus of our own and resolve once it is ready.
 *
 * @example
 * const prom = await startPrometheus({ dir, host: '127.0.0.1', port, scrapeIntervalS: 1, targets: [{ targets: ['127.0.0.1:8080'] }] });
 * await prom.stop();
 */
export async function startPrometheus(o: PrometheusOptions): Promise<RunningPrometheus> {
  const bin = await which('prometheus');
  if (bin === undefined) throw new ServiceStartError('prometheus', 'the prometheus binary is not installed (Debian package prometheus)');
  const files = { config: join(o.dir, 'prometheus.yml'), pid: join(o.dir, 'prometheus.pid'), log: join(o.dir, 'prometheus.log'), targets: join(o.dir, 'targets', 'keyflow.json') };
  await mkdir(join(o.dir, 'targets'), { recursive: true });
  const setTargets = async (targets: readonly ScrapeTargets[]): Promise<void> => {
    // Written whole and renamed would be nicer; Prometheus rereads a file that fails to parse.
    await writeFile(files.targets, `${JSON.stringify(targets)}\n`);
  };
  await setTargets(o.targets);
  await writeFile(files.config, prometheusConfig(o));
  const url = `http://${o.host}:${o.port}`;
  let pid = await livePid(files.pid, files.config);
  if (pid === undefined) {
    say(`starting prometheus on ${o.host}:${o.port}…`);
    const log = await open(files.log, 'a');
    try {
      const child = spawn(bin, [
        `--config.file=${files.config}`,
        `--storage.tsdb.path=${join(o.dir, 'data')}`,
        '--storage.tsdb.retention.time=2d',
        `--web.listen-address=${o.host}:${o.port}`,
      ], { cwd: o.dir, detached: true, stdio: ['ignore', log.fd, log.fd] });
      child.on('error', () => {});
      child.unref();
      pid = child.pid;
    } finally {
      await log.close();
    }
    if (pid === undefined) throw new ServiceStartError('prometheus', `could not run ${bin}`);
    await writePidFile(files.pid, pid);
  }
  const running = pid;
  const deadline = Date.now() + 30_000;
  for (let last = 'not tried'; ; await sleep(200)) {
    if (!(await isRunning(running))) throw new ServiceStartError('prometheus', `prometheus (pid ${running}) exited; ${files.log} ends with:\n${await fileTail(files.log)}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new ServiceStartError('prometheus', `not ready within 30 s (${last}); ${files.log} ends with:\n${await fileTail(files.log)}`);
  }
  return {
    url,
    pid: running,
    setTargets,
    stop: async () => {
      await terminate(running, 10_000);
      await rm(files.pid, { force: true });
    },
  };
}
