import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertRulesFile, prometheusConfig } from './prometheus.ts';

test('prometheus config - keyflow targets come from the targets folder, the alerting rules are loaded', () => {
  const config = JSON.parse(prometheusConfig({ dir: '/x/prom', host: '127.0.0.1', port: 59090, scrapeIntervalS: 1, targets: [], ruleFiles: [alertRulesFile] })) as {
    global: { scrape_interval: string };
    rule_files: string[];
    scrape_configs: { job_name: string; metrics_path: string; file_sd_configs: { files: string[] }[] }[];
  };
  assert.equal(config.global.scrape_interval, '1s');
  assert.deepEqual(config.rule_files, [alertRulesFile]);
  assert.match(alertRulesFile, /compose\/prometheus\/alerts\.yml$/);
  const job = config.scrape_configs.find((j) => j.job_name === 'keyflow');
  assert.equal(job?.metrics_path, '/metrics');
  assert.deepEqual(job?.file_sd_configs.flatMap((c) => c.files), ['/x/prom/targets/*.json']);
});
