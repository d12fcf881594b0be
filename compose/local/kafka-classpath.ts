// The Kafka broker's classpath, resolved once from Maven Central and cached.
// Rule: Maven runs only when the cache is missing, was resolved from a different pom, or
// names a jar that is gone (e.g. ~/.m2 was wiped); a restart after a reboot never waits on it.
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, delimiter, join } from 'node:path';
import { run } from './exec.ts';
import { say } from './progress.ts';
import type { Settings } from './settings.ts';

/** The pom listing the broker's jars (beside this file, tracked in git). */
export const kafkaPom: string = join(import.meta.dirname, 'kafka', 'pom.xml');

/**
 * The `java -cp` value for the broker, from the cache or from Maven.
 *
 * @example
 * const cp = await kafkaClasspath(loadSettings());
 */
export async function kafkaClasspath(s: Settings): Promise<string> {
  return mavenClasspath(kafkaPom, join(s.servicesDir, 'kafka'), 'the Kafka 3.9.1 jars');
}

/**
 * The runtime classpath of `pom`, cached as `<dir>/<name of the pom>.cp.txt` beside the pom's
 * sha-256, resolved by Maven only when the cache is missing, stale or names a missing jar.
 * `what` names the jars in the progress line.
 */
export async function mavenClasspath(pom: string, dir: string, what: string): Promise<string> {
  const stem = pom === kafkaPom ? 'cp' : `${basename(pom, '.xml')}.cp`;
  const cpFile = join(dir, `${stem}.txt`);
  const keyFile = join(dir, `${stem}.pom-sha256`);
  const key = createHash('sha256').update(await readFile(pom)).digest('hex');

  const cached = await readCached(cpFile, keyFile, key);
  if (cached !== undefined) return cached;

  await mkdir(dir, { recursive: true });
  say(`resolving ${what} with Maven (downloads them on a first run)…`);
  const started = Date.now();
  const partial = `${cpFile}.partial`;
  await run('mvn', [
    '-q',
    '-B',
    '-f',
    pom,
    'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath',
    `-Dmdep.outputFile=${partial}`,
    '-DincludeScope=runtime',
  ], { cwd: dir });
  await rename(partial, cpFile);
  await writeFile(keyFile, `${key}\n`);
  const classpath = (await readFile(cpFile, 'utf8')).trim();
  say(`resolved ${classpath.split(delimiter).length} jars in ${Math.round((Date.now() - started) / 1000)} s`);
  return classpath;
}

async function readCached(cpFile: string, keyFile: string, key: string): Promise<string | undefined> {
  try {
    if ((await readFile(keyFile, 'utf8')).trim() !== key) return undefined;
    const classpath = (await readFile(cpFile, 'utf8')).trim();
    const jars = classpath.split(delimiter);
    if (jars.length === 0 || jars[0] === '') return undefined;
    await Promise.all(jars.map((jar) => access(jar)));
    return classpath;
  } catch {
    return undefined;
  }
}
