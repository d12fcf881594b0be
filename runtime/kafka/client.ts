// One place that knows how keyflow talks to Kafka: client ids, retry policy, credentials and
// TLS, where kafkajs's own log lines go, and the compression codecs every client decodes
// (./codecs.ts).
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { kafkaSecurity, type KafkaSecurityConfig } from './security.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { registerCodecs } from './codecs.ts';
import { fixKafkajsIdleLoop } from './request-queue-fix.ts';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose log lines go to keyflow's logger (warnings and errors only); it reads every codec. */
export function createKafka(config: Pick<Config, 'kafkaBrokers'> & KafkaSecurityConfig, clientId: string, log: Logger): Kafka {
  fixKafkajsIdleLoop();
  registerCodecs();
  return new Kafka({
    clientId,
    brokers: [...config.kafkaBrokers],
    ...kafkaSecurity(config),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[levels[level] ?? 'info'](`kafkajs: ${message}`, rest);
      },
  });
}
