/**
 * The built-in detector and an ONNX detector pack together. The verdict has exactly the built-in
 * shape ({verdict, score, reasons}); its score is the larger of the built-in score and the pack's
 * calibrated score, so the plug-in can only add detections, never remove one the built-in layers
 * (normalisation, decoding, hidden text, exfiltration links) found.
 */
import { SiosError } from '../../errors.ts';
import { OPERATING_THRESHOLD, REPORT_AT, round3, type Detector, type Verdict } from '../detector.ts';
import type { OnnxDetector } from './pack.ts';

/** Most reasons in a combined verdict. */
const MAX_REASONS = 16;

export class CombinedDetector {
  readonly builtin: Pick<Detector, 'scan'>;
  readonly plugin: OnnxDetector;
  constructor(builtin: Pick<Detector, 'scan'>, plugin: OnnxDetector) {
    this.builtin = builtin;
    this.plugin = plugin;
  }

  async scan(text: string): Promise<Verdict> {
    if (typeof text !== 'string') throw new SiosError('ERR_INPUT', 'CombinedDetector.scan expects a string');
    const b = this.builtin.scan(text);
    // The score is the larger of the two: when the built-in one is already 1, the pack cannot change it.
    if (b.score >= 1) return b;
    const o = await this.plugin.score(text);
    const score = round3(Math.min(1, Math.max(0, b.score, o.score)));
    let reasons = [...b.reasons];
    if (o.score >= REPORT_AT) {
      const r = this.plugin.reason(o.p);
      // The stronger evidence first; the list stays within the built-in bound either way.
      reasons = o.score > b.score ? [r, ...reasons] : [...reasons.slice(0, MAX_REASONS - 1), r];
    }
    return { verdict: score >= OPERATING_THRESHOLD ? 'injection' : 'clean', score, reasons: reasons.slice(0, MAX_REASONS) };
  }

  close(): Promise<void> { return this.plugin.close(); }
}
