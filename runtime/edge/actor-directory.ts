// Finds the live actor of a key. Rule: the key's partition comes from the producer's own
// partitioner; the worker that owns that partition is asked — in this process through the
// supervisor, in another process through the owner recorded in Redis and its internal
// HTTP port. A key nobody owns, or whose owner has no live actor for it, is a 404.
import type { Redis } from 'ioredis';
import { INTERNAL_TOKEN_HEADER, type ActorView, type ActorsPort } from '../../http/index.ts';
import type { Config } from '../config/index.ts';
import { partitionOf } from '../kafka/index.ts';
import type { Supervisor } from '../supervisor/index.ts';
import { ownerOf } from '../worker/index.ts';

export type DirectoryOptions = {
  readonly config: Config;
  readonly redis: Redis;
  readonly partitionCount: number;
  /** This process's own internal URL, so it never asks itself over HTTP. */
  readonly selfUrl: () => string;
  readonly supervisor?: Supervisor;
  readonly askTimeoutMs?: number;
  /** Sent to the owner's /internal/* as X-Keyflow-Internal-Token when set. */
  readonly internalToken?: string | undefined;
};

/** The ActorsPort of the edge. */
export function createActorDirectory(o: DirectoryOptions): ActorsPort {
  const here = async (key: string): Promise<ActorView | undefined> => {
    const partition = partitionOf(key, o.partitionCount);
    if (o.supervisor === undefined || !o.supervisor.owns(partition)) return undefined;
    return o.supervisor.actor(key, partition);
  };
  return {
    locateHere: here,
    locate: async (key) => {
      const partition = partitionOf(key, o.partitionCount);
      if (o.supervisor?.owns(partition)) return here(key);
      const owner = await ownerOf(o.redis, o.config, partition);
      if (owner === undefined || owner.url === o.selfUrl()) return undefined;
      const headers: Record<string, string> = {};
      if (o.internalToken !== undefined) headers[INTERNAL_TOKEN_HEADER] = o.internalToken;
      const res = await fetch(`${owner.url}/internal/v1/actors/${encodeURIComponent(key)}`, { headers, signal: AbortSignal.timeout(o.askTimeoutMs ?? 2_000) });
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`the owner of partition ${partition} at ${owner.url} answered ${res.status}`);
      return { ...((await res.json()) as ActorView), process: owner.url };
    },
  };
}
