/**
 * Test fixture: a tiny, real ONNX injection classifier and a Hugging Face tokenizer.json, written
 * from scratch so the plug-in tests run the real onnxruntime-web on a real graph without shipping
 * weights or adding a protobuf dependency.
 *
 * The ONNX file is protobuf (proto3 wire format, protobuf.dev/programming-guides/encoding). Field
 * numbers below are those of onnx/onnx.proto (IR version 8); only the fields this graph needs are
 * written.
 *
 * The classifier: masked mean of 2-d token embeddings, then a 2x2 linear layer.
 *   e      = Gather(embedding[V,2], input_ids)            [1,S,2]
 *   m      = Cast(attention_mask -> float)                 [1,S]
 *   mean   = ReduceSum(e * m[..,None], axis 1) / ReduceSum(m, axis 1)   [1,2]
 *   logits = mean @ W + b                                  [1,2]   (class 0 benign, 1 injection)
 * Embedding dimension 0 is an "injection-ness" score per word (4 for words like "ignore" and
 * "instructions", -1 for a few benign words, 0 otherwise); dimension 1 is constant 1. With W and b
 * below, logit1 - logit0 = 2 * mean(score) - 1, so p(injection) = sigmoid(2 * mean - 1).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

// ---- protobuf wire format ----

/** Wire types used here (encoding guide, "Message Structure"): 0 varint, 2 length-delimited. */
const VARINT = 0, LEN = 2;

class Writer {
  private readonly parts: number[] = [];
  /** Base-128 varint; negative int64 values are sign-extended to 64 bits (10 bytes). */
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.parts.push(b);
    } while (x !== 0n);
    return this;
  }
  private tag(field: number, wire: number): this { return this.varint((field << 3) | wire); }
  int(field: number, v: number | bigint): this { return this.tag(field, VARINT).varint(v); }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, LEN).varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }
  string(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }
  message(field: number, m: Writer): this { return this.bytes(field, m.finish()); }
  finish(): Uint8Array { return Uint8Array.from(this.parts); }
}

// ---- onnx.proto messages ----

/** TensorProto.DataType */
const FLOAT = 1, INT64 = 7;
/** AttributeProto.AttributeType */
const ATTR_INT = 2;

/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian). */
function tensor(name: string, dims: number[], data: Float32Array | BigInt64Array): Writer {
  const w = new Writer();
  for (const d of dims) w.int(1, d);
  w.int(2, data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, name);
  const raw = new Uint8Array(data.byteLength);
  const dv = new DataView(raw.buffer);
  data.forEach((x: number | bigint, i: number) => {
    if (typeof x === 'bigint') dv.setBigInt64(i * 8, x, true); else dv.setFloat32(i * 4, x, true);
  });
  return w.bytes(9, raw);
}

/**
 * ValueInfoProto (name = 1, type = 2) with TypeProto.tensor_type = 1 { elem_type = 1, shape = 2 };
 * TensorShapeProto.dim = 1 { dim_value = 1 | dim_param = 2 }.
 */
function valueInfo(name: string, elem: number, dims: Array<number | string>): Writer {
  const shape = new Writer();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
  const tt = new Writer().int(1, elem).message(2, shape);
  return new Writer().string(1, name).message(2, new Writer().message(1, tt));
}

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5 (AttributeProto: name = 1, i = 3, type = 20). */
function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, number> = {}): Writer {
  const w = new Writer();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, `${op}_${outputs[0]}`);
  w.string(4, op);
  for (const [k, v] of Object.entries(attrs)) w.message(5, new Writer().string(1, k).int(3, v).int(20, ATTR_INT));
  return w;
}

// ---- the fixture ----

export const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;
/** Word -> injection score (embedding dimension 0). */
export const WORDS: Readonly<Record<string, number>> = {
  ignore: 4, previous: 4, instructions: 4, reveal: 4, system: 4, prompt: 4, disregard: 4, override: 4,
  // A trigger word only this model knows: text the built-in detector has no reason to flag.
  xyzzy: 4,
  the: 0, all: 0, and: 0, a: 0, of: 0, to: 0, is: 0, in: 0, your: 0, please: 0, at: 0, we: 0,
  meeting: -1, lunch: -1, report: -1, quarterly: -1, weather: -1, noon: -1, sunny: -1, budget: -1,
};

export function vocab(): Record<string, number> {
  const v: Record<string, number> = {};
  for (const t of [...SPECIAL, ...Object.keys(WORDS)]) v[t] = Object.keys(v).length;
  return v;
}

/**
 * The classifier as ONNX bytes (opset 13: Unsqueeze and ReduceSum take axes as an input).
 * `seq` fixes the sequence dimension (as a model with position embeddings effectively does);
 * by default it is symbolic. `slow` adds work that changes nothing: an N x N matrix filled from the
 * input, N = 1 + 1024 x (the number of "xyzzy" tokens), is multiplied by itself, summed and added
 * times zero. Text without the trigger word costs nothing; TRIGGER's three are 3073^3 multiply-adds,
 * seconds of one core: a scan that must be stopped.
 */
export function buildModel(seq: number | string = 'sequence', slow = false): Uint8Array {
  const voc = vocab();
  const V = Object.keys(voc).length;
  const emb = new Float32Array(V * 2);
  for (const [t, id] of Object.entries(voc)) { emb[id * 2] = WORDS[t] ?? 0; emb[id * 2 + 1] = 1; }
  // logits = [mean0, mean1] @ [[-1, 1], [0, 0]] + [0.5, -0.5]  ->  logit1 - logit0 = 2 * mean0 - 1
  const W = Float32Array.from([-1, 1, 0, 0]);
  const b = Float32Array.from([0.5, -0.5]);
  const graph = new Writer();
  // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12
  for (const n of [
    node('Gather', ['embedding', 'input_ids'], ['e']),
    node('Cast', ['attention_mask'], ['m'], { to: FLOAT }),
    node('Unsqueeze', ['m', 'axis2'], ['m3']),
    node('Mul', ['e', 'm3'], ['em']),
    node('ReduceSum', ['em', 'axis1'], ['s'], { keepdims: 0 }),
    node('ReduceSum', ['m', 'axis1'], ['c'], { keepdims: 1 }),
    node('Div', ['s', 'c'], ['mean']),
    node('MatMul', ['mean', 'W'], ['z']),
    ...(slow ? [
      node('Equal', ['input_ids', 'xyzzy'], ['isX']),
      node('Cast', ['isX'], ['isXi'], { to: INT64 }),
      node('ReduceSum', ['isXi', 'axis1'], ['count'], { keepdims: 0 }),
      node('Mul', ['count', 'k'], ['kc']),
      node('Add', ['kc', 'one'], ['N']),
      node('Concat', ['N', 'N'], ['NN'], { axis: 0 }),
      node('ReduceSum', ['mean', 'axis1'], ['x'], { keepdims: 1 }),
      node('Expand', ['x', 'NN'], ['X']),
      node('MatMul', ['X', 'X'], ['XX']),
      node('ReduceSum', ['XX'], ['r1'], { keepdims: 1 }),
      node('Mul', ['r1', 'zero'], ['nothing']),
      node('Add', ['z', 'nothing'], ['z2']),
      node('Add', ['z2', 'b'], ['logits']),
    ] : [node('Add', ['z', 'b'], ['logits'])]),
  ]) graph.message(1, n);
  if (slow) {
    graph.message(5, tensor('one', [1], BigInt64Array.from([1n])));
    graph.message(5, tensor('k', [1], BigInt64Array.from([1024n])));
    graph.message(5, tensor('xyzzy', [1], BigInt64Array.from([BigInt(voc['xyzzy']!)])));
    graph.message(5, tensor('zero', [1], Float32Array.from([0])));
  }
  graph.string(2, 'sios-test-injection-classifier');
  graph.message(5, tensor('embedding', [V, 2], emb));
  graph.message(5, tensor('W', [2, 2], W));
  graph.message(5, tensor('b', [2], b));
  graph.message(5, tensor('axis1', [1], BigInt64Array.from([1n])));
  graph.message(5, tensor('axis2', [1], BigInt64Array.from([2n])));
  graph.message(11, valueInfo('input_ids', INT64, [1, seq]));
  graph.message(11, valueInfo('attention_mask', INT64, [1, seq]));
  graph.message(12, valueInfo('logits', FLOAT, [1, 2]));
  // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 (domain = 1, version = 2)
  return new Writer()
    .int(1, 8)
    .string(2, 'sios-test')
    .message(7, graph)
    .message(8, new Writer().string(1, '').int(2, 13))
    .finish();
}

/** A BERT-style WordPiece tokenizer.json ([CLS] text [SEP]) over the fixture vocabulary. */
export function buildTokenizer(): Record<string, unknown> {
  const voc = vocab();
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: SPECIAL.map((t, i) => special(i, t)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [voc['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [voc['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: voc },
  };
}

/** Writes model.onnx (see buildModel for `seq` and `slow`) and tokenizer.json into `dir` (created); returns the directory. */
export function writePackFiles(dir: string, seq?: number, slow = false): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.onnx'), buildModel(seq, slow));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(buildTokenizer()));
  return dir;
}
