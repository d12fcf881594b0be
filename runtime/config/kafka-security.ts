// How keyflow authenticates to Kafka: SASL (PLAIN or SCRAM) and TLS, the same for every client
// it opens. Rule: a SASL mechanism comes with both a user name and a password, credentials never
// come without a mechanism, and the password is never part of any message; a CA file is read
// once, at start-up, and a file that cannot be read stops start-up naming KAFKA_SSL.
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** TLS to the brokers: off, on with the system's CAs, or on with the CA of a file (PEM). */
export type KafkaSsl = false | true | Readonly<{ caFile: string; ca: string }>;

/** A CA bundle is a few KiB; anything past this is not one. */
const MAX_CA_FILE_BYTES = 1024 * 1024;

const unset = z.literal('').transform(() => undefined);

export const saslMechanismSchema = z.union([unset, z.enum(KAFKA_SASL_MECHANISMS)]);
export const saslUsernameSchema = z.union([unset, z.string().max(1024, 'at most 1024 characters')]);
// Its only rule is one that cannot echo it; the loader never prints this variable's value.
export const saslPasswordSchema = z.union([unset, z.string().max(1024, 'at most 1024 characters')]);

/** `false` (or unset), `true`, or the path of a PEM file of CA certificates, read here. */
export const sslSchema = z.string().transform((value, ctx): KafkaSsl => {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  try {
    const size = statSync(value).size;
    if (size > MAX_CA_FILE_BYTES) throw new Error(`${size} bytes, more than a CA file's ${MAX_CA_FILE_BYTES}`);
    const ca = readFileSync(value, 'utf8');
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return Object.freeze({ caFile: value, ca });
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `expected true, false or a readable CA file (PEM); cannot use it: ${e instanceof Error ? e.message : String(e)}` });
    return z.NEVER;
  }
});

/** The variables whose values no message may show. */
export const secretKafkaVariables: ReadonlySet<string> = new Set(['KAFKA_SASL_PASSWORD']);

/** Cross-variable rules of SASL; each problem names the variables, never a value of the password. */
export function saslProblems(c: Readonly<{ kafkaSaslMechanism?: string | undefined; kafkaSaslUsername?: string | undefined; kafkaSaslPassword?: string | undefined }>): string[] {
  const problems: string[] = [];
  if (c.kafkaSaslMechanism !== undefined) {
    const missing = [c.kafkaSaslUsername === undefined ? 'KAFKA_SASL_USERNAME' : '', c.kafkaSaslPassword === undefined ? 'KAFKA_SASL_PASSWORD' : ''].filter((s) => s !== '');
    if (missing.length > 0) problems.push(`KAFKA_SASL_MECHANISM=${c.kafkaSaslMechanism}: needs ${missing.join(' and ')}`);
  } else {
    const stray = [c.kafkaSaslUsername !== undefined ? 'KAFKA_SASL_USERNAME' : '', c.kafkaSaslPassword !== undefined ? 'KAFKA_SASL_PASSWORD' : ''].filter((s) => s !== '');
    if (stray.length > 0) problems.push(`${stray.join(' and ')}: set without KAFKA_SASL_MECHANISM (${KAFKA_SASL_MECHANISMS.join(', ')}), so they would not be used`);
  }
  return problems;
}
