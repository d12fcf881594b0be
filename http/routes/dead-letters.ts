// GET /v1/dead-letters: the Kafka messages that could not become events, newest first, a
// page at a time. Rule: the store only sees a limit in 1..1000 and a cursor it handed out;
// anything else — a bad number, an unknown parameter, a forged or stale cursor — is a 400
// that names the parameter. Answers are bounded in bytes (db/queries.ts,
// DEAD_LETTER_PAGE_LIMITS): each value shows at most 64 KiB (rawTruncated, with the whole
// value's rawLength and rawSha256), a page ends early with a nextCursor once its values
// would pass 1 MiB, and an error text shows at most 2,048 characters.
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { InvalidQueryError } from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { errorSchema, isoInstant } from '../openapi/schemas.ts';
import type { DeadLetterQuery, QueryPort } from '../ports.ts';
import { pageLimit } from '../query/window.ts';

const DEFAULT_LIMIT = 50;

// The dead-letter cursor is base64url("dl1:" + the last id, in decimal). This pattern is that
// format, up to 16 digits (ids stay far below; the store reads up to int8's 19): "ZGwx" is
// "dl1", "Oj" ":" and the top of the first digit; then each 3 digits are 4 characters, and a
// last 1 or 2 digits 2 or 3 characters (a digit is 0x30-0x39, so only these letters occur).
const DIGIT_PAIR_HEAD = '(?:[MN][DTjz]|O[DT])';
const DEAD_LETTER_CURSOR = new RegExp(
  `^ZGwxOj[AEIMQUYcgk](?:[w-z0-5](?:${DIGIT_PAIR_HEAD}[AEIMQUYcgk][w-z0-5]){0,4}(?:${DIGIT_PAIR_HEAD}[AEIMQUYcgk]|(?:[MN][AQgw]|O[AQ]))?)?$`,
);

const querySchema = z.strictObject({
  limit: pageLimit(DEFAULT_LIMIT),
  cursor: z.string().regex(DEAD_LETTER_CURSOR, 'not a cursor this server handed out').optional().describe('nextCursor of the previous page'),
});

/** One dead letter as the API shows it. */
const deadLetterSchema = z
  .object({
    id: z.string(),
    topic: z.string(),
    partition: z.number().int().nonnegative(),
    offset: z.string().regex(/^\d+$/).describe('the Kafka offset, decimal'),
    key: z.base64().nullable().describe('the message key, base64; null when it had none'),
    lastOffset: z.string().regex(/^\d+$/).nullable().describe('the last offset when the dead letter covers a range of offsets (a record batch); null for one message'),
    raw: z.base64().nullable().describe('the message value, base64 (at most its first 64 KiB: see rawTruncated); null when it had none'),
    rawPreview: z.string().nullable().describe('the first 256 characters of the value as UTF-8 (invalid bytes as U+FFFD)'),
    rawLength: z.number().int().nonnegative().nullable().describe('bytes of the whole value as it was in Kafka; null when it had none'),
    rawSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable().describe('SHA-256 of the whole value, hex; null when it had none'),
    rawTruncated: z.boolean().describe('true when raw holds only a prefix of the value (the worker keeps KEYFLOW_DEAD_LETTER_MAX_BYTES, a page shows 64 KiB)'),
    reason: z.string().describe('not-json, schema, empty, too-large, expired, future, unsigned-command, bad-command, batch-failed, undecodable-batch, store-rejected'),
    error: z.string().describe('why, at most 2,048 characters (ending with … when cut)'),
    createdAt: isoInstant,
  })
  .meta({ id: 'DeadLetter' });

/** One page; `nextCursor` is null on the last. */
const deadLetterPageSchema = z
  .object({
    items: z.array(deadLetterSchema).describe('at most limit items, fewer when their values would pass 1 MiB (then nextCursor is set)'),
    nextCursor: z.string().nullable().describe('pass as cursor for the next page; null on the last page'),
  })
  .meta({ id: 'DeadLetterPage' });

/** How the dead-letter route describes itself in /openapi.json. */
export const deadLetterDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/dead-letters',
    summary: 'Kafka messages that could not become events (undecodable, invalid, too large, refused by the store), newest first',
    query: querySchema,
    auth: 'admin',
    responses: {
      200: { description: 'One page', schema: deadLetterPageSchema },
      400: { description: 'Invalid query (invalid_query): limit out of 1..1000, unknown parameter, or a cursor this server did not hand out', schema: errorSchema },
    },
  },
];

/**
 * Parse a dead-letter query string; `limit` defaults to 50.
 *
 * @example
 * parseDeadLetterQuery({ limit: '10' }); // { limit: 10 }
 */
export function parseDeadLetterQuery(raw: Readonly<Record<string, string>>): DeadLetterQuery {
  const r = querySchema.safeParse(raw);
  if (!r.success) {
    const details = r.error.issues.map((i) => ({
      path: i.code === 'unrecognized_keys' ? i.keys.join(',') : i.path.map(String).join('.'),
      message: i.message,
    }));
    throw new InvalidQueryError(details.map((d) => `${d.path}: ${d.message}`).join('; '), { details });
  }
  return { limit: r.data.limit ?? DEFAULT_LIMIT, ...(r.data.cursor === undefined ? {} : { cursor: r.data.cursor }) };
}

/**
 * The dead-letter routes.
 *
 * @example
 * app.route('/v1/dead-letters', deadLetterRoutes(deps.queries));
 */
export function deadLetterRoutes(queries: QueryPort): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/', async (c) => {
    const q = parseDeadLetterQuery(c.req.query());
    try {
      return c.json(await queries.listDeadLetters(q, c.req.raw.signal));
    } catch (e) {
      if ((e as { code?: unknown } | null)?.code !== 'KEYFLOW_INVALID_CURSOR') throw e;
      throw new InvalidQueryError('cursor: not a cursor this server handed out', {
        cause: e,
        details: [{ path: 'cursor', message: 'not a cursor this server handed out' }],
      });
    }
  });
  return app;
}
