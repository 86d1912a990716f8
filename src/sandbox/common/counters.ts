/**
 * Request counters per provider and endpoint ("GET /v1/person/{id}" style keys, the route
 * pattern, never the raw path, so personal numbers never become counter keys). Tests and the
 * benchmark read them through the control API to count upstream calls deterministically.
 */
export class Counters {
  private readonly counts = new Map<string, number>();

  increment(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  reset(): void {
    this.counts.clear();
  }
}
