// Deterministic ids: a seeded counter per emulator, rendered the way EC2 renders ids
// (17 lowercase hex digits after the prefix). The same seed and call order give the same ids.

export class IdSource {
  private counter = 0;
  private readonly seed: number;

  constructor(seed = 1) {
    this.seed = seed >>> 0;
  }

  next(prefix: string): string {
    this.counter++;
    const hi = this.seed.toString(16).padStart(8, '0').slice(-8);
    const lo = this.counter.toString(16).padStart(9, '0');
    return `${prefix}-${hi}${lo}`;
  }

  /** Locally administered unicast MAC, unique per emulator. */
  mac(): string {
    this.counter++;
    const n = (this.seed * 0x1000000 + this.counter) % 2 ** 40;
    const bytes = [2];
    for (let shift = 32; shift >= 0; shift -= 8) bytes.push(Math.floor(n / 2 ** shift) % 256);
    return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  /** Small deterministic PRNG (mulberry32) for random address picks. */
  random(): () => number {
    let a = this.seed || 1;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
}
