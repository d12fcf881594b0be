// The door of runtime/live/: the live view's Redis layout, its reconciler, its readers.
export { INFLIGHT_STALE_MS, LIVE_MINUTES, LIVE_TTL_SECONDS, MINUTE_MS, WRITER_ALIVE_MS, liveKeys, minuteOf, writerOf } from './keys.ts';
export type { FeedItem } from './keys.ts';
export { LiveReconciler, forgetLiveUser } from './reconciler.ts';
export type { ReconcileResult, ReconcilerOptions } from './reconciler.ts';
export { readSummary, TOP_TYPES } from './summary.ts';
export { FeedSubscriber } from './feed.ts';
export { LagReader } from './lag.ts';
export { StallDetector, StallMonitor, describeStalls } from './stall.ts';
export type { StalledPartition, StallMonitorOptions } from './stall.ts';
