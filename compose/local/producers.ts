// The real Kafka producers the tests drive (test/producers.test.ts): Debian's `kcat`
// (librdkafka) and a small producer on the official Java client (./producers/KeyflowProducer.java).
// Rule: what a fresh machine lacks is installed with apt in one run (kcat; a JDK when `javac`
// is missing, since a broker needs only the JRE) — by `npm run services -- producers` or by
// `npm test` before that file, never by `npm start`, which needs neither — and the Java producer is compiled once per
// source: its classes are cached under the services folder by the source's SHA-256, so a
// second run costs one file check. Its classpath is the broker's (kafka-clients 3.9.1 with
// snappy-java, lz4-java, zstd-jni and slf4j), resolved by ./kafka-classpath.ts.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { aptInstall, which } from './apt.ts';
import { run } from './exec.ts';
import { exists } from './files.ts';
import { kafkaClasspath } from './kafka-classpath.ts';
import { say } from './progress.ts';
import type { Settings } from './settings.ts';

const javaSource = join(import.meta.dirname, 'producers', 'KeyflowProducer.java');

/** How to run the Java producer: `java -cp <classpath> KeyflowProducer BOOTSTRAP TOPIC`. */
export type JavaProducer = { readonly java: string; readonly classpath: string; readonly mainClass: 'KeyflowProducer' };

/**
 * Install kcat and a JDK when missing (one apt run); resolve kcat's path.
 *
 * @example
 * const kcat = await ensureProducerTools();
 */
export async function ensureProducerTools(): Promise<string> {
  const missing = [...((await which('kcat')) ? [] : ['kcat']), ...((await which('javac')) ? [] : ['openjdk-17-jdk-headless'])];
  await aptInstall(missing);
  const kcat = await which('kcat');
  if (kcat === undefined) throw new Error('apt installed kcat, yet it is not on PATH');
  return kcat;
}

/**
 * The Java producer, compiled now if its source changed since the cached build.
 *
 * @example
 * const p = await javaProducer(loadSettings());
 * spawn(p.java, ['-cp', p.classpath, p.mainClass, 'localhost:9092', 'topic']);
 */
export async function javaProducer(s: Settings): Promise<JavaProducer> {
  await ensureProducerTools();
  const kafkaCp = await kafkaClasspath(s);
  const hash = createHash('sha256').update(await readFile(javaSource)).digest('hex').slice(0, 16);
  const classes = join(s.servicesDir, 'java-producer', hash);
  if (!(await exists(join(classes, 'KeyflowProducer.class')))) {
    say('compiling the Java test producer…');
    const partial = `${classes}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    await run((await which('javac')) ?? 'javac', ['-nowarn', '-cp', kafkaCp, '-d', partial, javaSource]);
    await rename(partial, classes);
  }
  return { java: (await which('java')) ?? 'java', classpath: [kafkaCp, classes].join(delimiter), mainClass: 'KeyflowProducer' };
}
