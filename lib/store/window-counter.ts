/** Address groups whose registrations one process counts at once; past this the longest-quiet one is forgotten. */
export const MAX_COUNTED_ADDRESSES = 10_000;

/** Counts per address group in fixed windows, in one process (a cluster counts in Redis). */
export class WindowCounter {
  private readonly windows = new Map<string, { readonly start: number; count: number }>(); // longest-quiet first

  /** Counts one for `group` at `at`; how many it has now in its window of `windowMs`. */
  count(group: string, windowMs: number, at: number): number {
    const start = at - (at % windowMs);
    const kept = this.windows.get(group);
    this.windows.delete(group); // set again last: the map stays longest-quiet first
    const window = kept !== undefined && kept.start === start ? kept : { start, count: 0 };
    window.count += 1;
    this.windows.set(group, window);
    const oldest = this.windows.keys().next();
    if (this.windows.size > MAX_COUNTED_ADDRESSES && oldest.done !== true) this.windows.delete(oldest.value);
    return window.count;
  }
}
