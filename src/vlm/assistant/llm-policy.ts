/**
 * When the LLM gives the verdict (pure; imports nothing internal). The judge's verdict always
 * exists first — it is the fallback — and this decides whether the LLM's is asked for.
 */
export type LlmPolicyMode = 'every-frame' | 'fails-only' | 'on-request' | 'rate';

export class LlmPolicy {
  /** Token bucket per camera for mode `rate`: capacity 1, refilled at maxPerSecond. */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly mode: LlmPolicyMode,
    private readonly maxPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether this frame's verdict should be the LLM's. `judgePass`: the judge's decision. */
  wants(cameraId: string, judgePass: boolean): boolean {
    switch (this.mode) {
      case 'every-frame':
        return true;
      case 'fails-only':
        return !judgePass;
      case 'on-request':
        return false;
      case 'rate': {
        const t = this.now();
        const b = this.buckets.get(cameraId) ?? { tokens: 1, at: t };
        b.tokens = Math.min(1, b.tokens + ((t - b.at) / 1000) * this.maxPerSecond);
        b.at = t;
        this.buckets.set(cameraId, b);
        if (b.tokens < 1) return false;
        b.tokens -= 1;
        return true;
      }
    }
  }
}
