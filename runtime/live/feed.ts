// The edge's end of the event feed. Rule: this process subscribes to the feed channel only
// while it has listeners, and says so on the demand channel before the first listener is
// told it is subscribed (and every few seconds after), so that workers publish stored
// events exactly while someone can receive them.
import type { Redis } from 'ioredis';
import type { LiveEvent } from '../../http/index.ts';
import { liveKeys, type FeedItem } from './keys.ts';

const DEMAND_EVERY_MS = 5_000;

/** Fans the feed channel out to this process's listeners. */
export class FeedSubscriber {
  readonly #redis: Redis;
  readonly #keys: ReturnType<typeof liveKeys>;
  readonly #listeners = new Set<(events: readonly LiveEvent[]) => void>();
  #sub: Redis | undefined;
  #ready: Promise<void> | undefined;
  #demand: NodeJS.Timeout | undefined;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#keys = liveKeys(prefix);
  }

  /** Listen; resolves once subscribed and the workers were told. Call the answer to stop. */
  async subscribe(listener: (events: readonly LiveEvent[]) => void): Promise<() => void> {
    this.#listeners.add(listener);
    const stop = () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#close();
    };
    try {
      if (this.#sub === undefined) {
        const sub = (this.#sub = this.#redis.duplicate({ lazyConnect: true }));
        sub.on('error', () => undefined);
        sub.on('message', (_channel: string, message: string) => {
          let items: FeedItem[];
          try {
            items = JSON.parse(message) as FeedItem[];
          } catch {
            return;
          }
          for (const l of this.#listeners) l(items as LiveEvent[]);
        });
        this.#ready = sub.connect().then(async () => {
          await sub.subscribe(this.#keys.events);
        });
        this.#demand = setInterval(() => void this.#redis.publish(this.#keys.demand, '1').catch(() => undefined), DEMAND_EVERY_MS);
        this.#demand.unref();
      }
      await this.#ready;
      await this.#redis.publish(this.#keys.demand, '1');
      return stop;
    } catch (e) {
      stop();
      throw e;
    }
  }

  #close(): void {
    clearInterval(this.#demand);
    this.#demand = undefined;
    this.#sub?.disconnect();
    this.#sub = undefined;
    this.#ready = undefined;
  }
}
