/**
 * A token bucket per calling pod. With the cache a token costs microseconds, but one pod in a
 * loop must not starve the others on the node (or, on a miss, push the node over IMDS's 20
 * requests per second). A refused caller gets 429 with Retry-After, which the Azure SDKs honour.
 * Buckets of idle pods are dropped once there are many, so the map stays bounded.
 */

export interface RateLimitOptions {
  /** Tokens added per second (default 20). */
  readonly ratePerSecond?: number | undefined;
  /** Bucket size, the burst allowed (default 40). */
  readonly burst?: number | undefined;
  /** Prune idle buckets above this many (default 10,000). */
  readonly maxBuckets?: number | undefined;
}

export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class PodRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly maxBuckets: number;

  constructor(options: RateLimitOptions = {}) {
    this.ratePerSecond = options.ratePerSecond ?? 20;
    this.burst = options.burst ?? 40;
    this.maxBuckets = options.maxBuckets ?? 10_000;
  }

  take(podKey: string, nowMs: number): RateDecision {
    let bucket = this.buckets.get(podKey);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxBuckets) this.prune(nowMs);
      bucket = { tokens: this.burst, updatedMs: nowMs };
      this.buckets.set(podKey, bucket);
    } else {
      const elapsed = Math.max(0, nowMs - bucket.updatedMs) / 1000;
      bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.ratePerSecond);
      bucket.updatedMs = nowMs;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
    return { allowed: false, retryAfterSeconds };
  }

  private prune(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      const full = bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * this.ratePerSecond >= this.burst;
      if (full) this.buckets.delete(key);
    }
    // Everyone is busy: drop the oldest half rather than grow.
    if (this.buckets.size >= this.maxBuckets) {
      let drop = Math.ceil(this.buckets.size / 2);
      for (const key of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }
}
