/**
 * Sentinel's optional ONNX detector plug-in: an operator-supplied classifier (for example Llama
 * Prompt Guard 2) in a signed detector pack. Nothing here is loaded unless a pack is configured;
 * onnxruntime-web and @huggingface/tokenizers are imported only when a pack is opened.
 *
 *   const det = await loadCombinedDetector(dir, new TrustedPublishers(operatorPublicKey));
 *   const v = await det.scan(text);   // { verdict, score, reasons }, as the built-in scan
 */
import type { TrustedPublishers } from '../../skills/envelope.ts';
import { defaultDetector } from '../index.ts';
import { CombinedDetector } from './combined.ts';
import { OnnxDetector } from './pack.ts';
import type { ClassifierLimits } from './runtime.ts';

export { CombinedDetector } from './combined.ts';
export { OnnxDetector, signDetectorPack, verifyDetectorPack, type PluginScore, type SignPackInput, type VerifiedPack } from './pack.ts';
export {
  PACK_MANIFEST_FILE, parseDetectorManifest, signDetectorManifest, verifyDetectorManifest, detectorRef,
  type DetectorManifest, type PackFile, type SignedDetector,
} from './manifest.ts';
export type { ClassifierLimits } from './runtime.ts';

/** Verifies and loads the pack in `dir` and pairs it with the shipped built-in detector. */
export async function loadCombinedDetector(dir: string, trust: TrustedPublishers, limits: ClassifierLimits = {}): Promise<CombinedDetector> {
  return new CombinedDetector(defaultDetector(), await OnnxDetector.load(dir, trust, limits));
}
