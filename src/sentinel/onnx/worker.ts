/**
 * The ONNX detector's worker thread (started by thread.ts): opens the tokenizer and the session once
 * from the verified bytes it is given, reports that (id 0), then answers each request in turn.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SiosError } from '../../errors.ts';
import { OnnxClassifier } from './runtime.ts';
import type { WorkerInit, WorkerReply, WorkerRequest } from './thread.ts';

const port = parentPort;
if (port === null) throw new Error('src/sentinel/onnx/worker.ts runs only as a worker thread (see thread.ts)');
const init = workerData as WorkerInit;

function failure(id: number, e: unknown): WorkerReply {
  if (e instanceof SiosError) return { id, ok: false, code: e.code, message: e.message };
  return { id, ok: false, code: 'ERR_INTERNAL', message: `the ONNX worker failed: ${(e as Error)?.message ?? String(e)}` };
}

let classifier: OnnxClassifier | null = null;
try {
  classifier = await OnnxClassifier.create(init.manifest, init.files, init.limits);
  port.postMessage({ id: 0, ok: true, result: { p: 0, windows: 0, tokens: 0, runMs: 0 }, windowTokens: classifier.windowTokens } satisfies WorkerReply);
} catch (e) {
  // thread.ts reports this and terminates the worker.
  port.postMessage(failure(0, e));
}

port.on('message', (req: WorkerRequest) => {
  const c = classifier;
  if (c === null) { port.postMessage(failure(req.id, new SiosError('ERR_CLOSED', 'the ONNX worker has no session'))); return; }
  // One request at a time: thread.ts sends the next only after this one's reply.
  void (req.op === 'score' ? c.score(req.text) : c.selfTest()).then(
    (result) => port.postMessage({ id: req.id, ok: true, result, windowTokens: c.windowTokens } satisfies WorkerReply),
    (e: unknown) => port.postMessage(failure(req.id, e)),
  );
});
