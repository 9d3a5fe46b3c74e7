/** An injected clock the tests move by hand. */
export class TestClock {
  now: number;
  constructor(start = Date.UTC(2026, 10, 22, 9, 0, 0)) { this.now = start; }
  readonly fn = (): number => this.now;
  advance(seconds: number): void { this.now += seconds * 1000; }
}
