// Kafka saying no to keyflow itself: wrong credentials, or an ACL missing for its principal.
// Rule: these never heal by retrying, so start-up stops at once with one line that says what
// was refused and what to fix — and names the variables, never the password's value.
import type { Logger } from '../log/index.ts';

/** Raised when the broker refuses keyflow's credentials or denies it an operation. */
export class KafkaAccessError extends Error {
  override readonly name = 'KafkaAccessError';
  readonly code = 'KEYFLOW_KAFKA_ACCESS_DENIED';
}

type KafkaJsLike = { name?: unknown; message?: unknown; type?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown };

/** The errors kafkajs nests: an aggregate's errors, a retry's original error, a cause. */
function* chain(e: unknown, depth = 0): Generator<KafkaJsLike> {
  if (depth > 5 || typeof e !== 'object' || e === null) return;
  const k = e as KafkaJsLike;
  yield k;
  if (Array.isArray(k.errors)) for (const inner of k.errors) yield* chain(inner, depth + 1);
  yield* chain(k.originalError, depth + 1);
  yield* chain(k.cause, depth + 1);
}

/**
 * A {@link KafkaAccessError} when `e` (or an error inside it) is an authentication or
 * authorization failure, else undefined. `doing` says what keyflow was doing.
 *
 * @example
 * const fatal = kafkaAccessError(e, 'creating the topic');
 * if (fatal) throw fatal;
 */
export function kafkaAccessError(e: unknown, doing: string): KafkaAccessError | undefined {
  for (const k of chain(e)) {
    if (k.name === 'KafkaJSSASLAuthenticationError') {
      return new KafkaAccessError(
        `Kafka refused keyflow's credentials while ${doing} (${String(k.message)}); check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`,
        { cause: e },
      );
    }
    if (typeof k.type === 'string' && k.type.endsWith('_AUTHORIZATION_FAILED')) {
      return new KafkaAccessError(`Kafka denied keyflow ${k.type} while ${doing}; grant its principal the ACLs listed under "Kafka security" in the README`, { cause: e });
    }
  }
  return undefined;
}

/** For retry loops: rethrow an access failure as a {@link KafkaAccessError} (and log it once). */
export function throwIfAccessDenied(e: unknown, doing: string, log: Logger): void {
  const fatal = kafkaAccessError(e, doing);
  if (fatal === undefined) return;
  log.error(fatal.message, { errorCode: fatal.code });
  throw fatal;
}
