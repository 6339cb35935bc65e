// stats.ts -- percentiles and medians, small enough to read in one sitting.
//
// A benchmark run records about a million latencies per cell. Keeping them
// all and sorting would work, but it costs memory in the load process (the
// process we least want to slow down) and the samples of several load
// processes would have to travel over IPC. So latencies go into a
// histogram instead: a fixed array of counters whose buckets grow with the
// value, like HdrHistogram. Recording is one array increment, two
// histograms merge by adding their arrays, and any percentile is a walk
// over 1728 counters. The price is precision: a value comes back within
// 1/64 (1.6%) of what was recorded, far below the noise of a busy machine.

/* ============================ Histogram ===================================
 * Values are non-negative integers (microseconds here). Below 128 every
 * value has its own bucket. Above, each power of two [2^k, 2^(k+1)) is cut
 * into 64 equal buckets, so a bucket is never wider than 1/64 of its value.
 * ======================================================================== */

const SUB_BUCKETS = 64;
const LINEAR_LIMIT = 2 * SUB_BUCKETS; // 128: exact below this.
const MAX_VALUE = 0x7fffffff; // About 35 minutes in microseconds: plenty.
export const HISTOGRAM_SIZE = LINEAR_LIMIT + 25 * SUB_BUCKETS; // 1728

// Bucket index of a value. Math.clz32 gives the position of the highest
// set bit in one instruction, no logarithm needed.
function bucketOf(value: number): number {
  const v = Math.min(MAX_VALUE, Math.max(0, Math.floor(value)));
  if (v < LINEAR_LIMIT) return v;
  const msb = 31 - Math.clz32(v); // 7 or more here.
  const shift = msb - 6; // Keep the top 7 bits: 64..127.
  return LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + ((v >>> shift) - SUB_BUCKETS);
}

// The value a bucket stands for: the middle of its range.
function bucketValue(bucket: number): number {
  if (bucket < LINEAR_LIMIT) return bucket;
  const shift = Math.floor((bucket - LINEAR_LIMIT) / SUB_BUCKETS) + 1;
  const low = ((bucket - LINEAR_LIMIT) % SUB_BUCKETS) + SUB_BUCKETS;
  return (low << shift) + (1 << shift) / 2;
}

export class Histogram {
  readonly counts: number[];
  total = 0;

  constructor(counts?: readonly number[]) {
    this.counts = new Array<number>(HISTOGRAM_SIZE).fill(0);
    if (counts) this.add(counts);
  }

  record(value: number): void {
    this.counts[bucketOf(value)]!++;
    this.total++;
  }

  // Add another histogram's counts (from another load process, say).
  add(counts: readonly number[]): void {
    for (let i = 0; i < HISTOGRAM_SIZE; i++) {
      const n = counts[i] ?? 0;
      this.counts[i]! += n;
      this.total += n;
    }
  }

  // The value below which a fraction p (0..1) of the recorded values fall,
  // or NaN if nothing was recorded.
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(p * this.total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return bucketValue(i);
    }
    return bucketValue(HISTOGRAM_SIZE - 1);
  }
}

/* ============================ Medians =====================================
 * The benchmark reports medians of repeated measurements (1-second slices
 * of one run, or several runs) rather than means: one garbage collection
 * pause or one burst from another process on a 2-core machine drags a mean
 * down, while the median only moves if most measurements move.
 * ======================================================================== */

// The median of a list of numbers (NaN for an empty list). Even lengths
// average the two middle values.
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid]!;
  return (sorted[mid - 1]! + sorted[mid]!) / 2;
}
