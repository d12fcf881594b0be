// Per-key token buckets shared by every edge process through Redis. Rule: one request takes
// one token in one atomic Lua script that reads Redis's own clock, so edges on different
// machines share a bucket without sharing a clock; and the limiter fails open — when Redis
// is down or slow the request passes and the miss is counted, because ingestion never
// depends on the live view.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimitDecision, RateLimitPort } from '../../http/index.ts';

// KEYS[1] the bucket; ARGV[1] tokens per second; ARGV[2] burst (the bucket's size).
// Returns { allowed (0|1), whole tokens left, ms until one token, ms until full }.
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
local full_ms = math.ceil((burst - tokens) * 1000 / rate)
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', at)
redis.call('PEXPIRE', KEYS[1], full_ms + 1000)
local wait_ms = 0
if allowed == 0 then wait_ms = math.ceil((1 - tokens) * 1000 / rate) end
return { allowed, math.floor(tokens), wait_ms, full_ms }
`;
const TAKE_SHA = createHash('sha1').update(TAKE).digest('hex');

export type RateLimiterOptions = {
  readonly redis: Redis;
  /** Prefix of every Redis key (KEYFLOW_REDIS_PREFIX). */
  readonly prefix: string;
  readonly perSec: number;
  readonly burst: number;
  /** Longest wait for Redis before the request passes anyway. Default 250 ms. */
  readonly timeoutMs?: number;
  /** Called each time a request passes because Redis did not answer. */
  onFailOpen?(error: unknown): void;
};

/**
 * The RateLimitPort of the edge.
 *
 * @example
 * const limiter = createRateLimiter({ redis, prefix: 'keyflow:', perSec: 10, burst: 20 });
 * const d = await limiter.take('ci'); // { allowed: true, remaining: 19, … }
 */
export function createRateLimiter(o: RateLimiterOptions): RateLimitPort {
  const timeoutMs = o.timeoutMs ?? 250;
  const run = async (key: string): Promise<unknown> => {
    try {
      return await o.redis.evalsha(TAKE_SHA, 1, key, o.perSec, o.burst);
    } catch (e) {
      if (!String((e as Error).message).includes('NOSCRIPT')) throw e;
      return o.redis.eval(TAKE, 1, key, o.perSec, o.burst);
    }
  };
  return {
    async take(keyName) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const asked = run(`${o.prefix}ratelimit:${keyName}`);
        // Past the timeout nobody awaits it; its late failure must not be unhandled.
        asked.catch(() => undefined);
        const reply = await Promise.race([
          asked,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        const [allowed, remaining, waitMs, fullMs] = (reply as unknown[]).map(Number) as [number, number, number, number];
        const d: RateLimitDecision = { allowed: allowed === 1, burst: o.burst, perSec: o.perSec, remaining, resetSeconds: fullMs / 1000, retryAfterSeconds: waitMs / 1000 };
        return d;
      } catch (e) {
        o.onFailOpen?.(e);
        return undefined;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
