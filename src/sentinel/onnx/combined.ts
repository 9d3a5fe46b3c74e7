/**
 * The built-in detector and an ONNX detector pack together. The verdict has exactly the built-in
 * shape ({verdict, score, reasons}); its score is the larger of the built-in score and the pack's
 * calibrated score, so the plug-in can only add detections, never remove one the built-in layers
 * (normalisation, decoding, hidden text, exfiltration links) found.
 */
import { SiosError } from '../../errors.ts';
import { OPERATING_THRESHOLD, type Detector, type Verdict } from '../detector.ts';
import type { OnnxDetector } from './pack.ts';

/** A pack score at least this high is named in the reasons (the built-in classifier's own rule). */
const REPORT_AT = 0.25;
const MAX_REASONS = 16;

function round3(x: number): number { return Math.round(x * 1000) / 1000; }

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
