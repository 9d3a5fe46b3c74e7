/** OpenAI-compatible runtime against a real HTTP server on 127.0.0.1 written here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SiosError } from '../../src/errors.ts';
import { OpenAiChatRuntime, checkLoopbackEndpoint } from '../../src/brains/openai.ts';
import { toolSpec } from '../../src/brains/runtime.ts';
import { builtinSkillManifests } from '../../src/skills/builtin.ts';

const tools = builtinSkillManifests().map(toolSpec);
const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof SiosError && e.code === c && (re === undefined || re.test(e.message));

function completion(message: unknown): string {
  return JSON.stringify({ id: 'c1', object: 'chat.completion', model: 'm', choices: [{ index: 0, finish_reason: 'tool_calls', message }] });
}

async function server(t: { after(fn: () => Promise<void> | void): void }): Promise<{ base: string; requests: Record<string, unknown>[] }> {
  const requests: Record<string, unknown>[] = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      const r = JSON.parse(body) as Record<string, unknown>;
      requests.push({ ...r, path: req.url });
      const reply = (s: string, status = 200) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(s); };
      switch (r['model']) {
        case 'good':
          return reply(completion({ role: 'assistant', content: null, tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'records__read', arguments: '{"collection":"patients","limit":5}' } },
            { id: 'call_2', type: 'function', function: { name: 'shell__exec', arguments: '{"cmd":"rm -rf /"}' } },
            { id: 'call_3', type: 'function', function: { name: 'records__export', arguments: '{"collection": patients' } },
          ] }));
        case 'text': return reply(completion({ role: 'assistant', content: 'Nothing to do.' }));
        case 'no-choices': return reply(JSON.stringify({ choices: [] }));
        case 'bad-calls': return reply(completion({ role: 'assistant', content: null, tool_calls: { name: 'x' } }));
        case 'not-json': return reply('<html>oops</html>');
        case 'http500': return reply('{"error":"model not loaded"}', 500);
        case 'huge': return reply(completion({ role: 'assistant', content: 'x'.repeat(5000) }));
        case 'review': return reply(completion({ role: 'assistant', content: null, tool_calls: [{ id: 'v', type: 'function', function: { name: 'submit_verdict', arguments: '{"verdict":"reject","reason":"exports insurance ids"}' } }] }));
        case 'review-bad': return reply(completion({ role: 'assistant', content: 'I think it is fine' }));
        case 'hang': return; // never answers: only the client's abort ends the request
        default: return reply('{}', 404);
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { srv.closeAllConnections(); srv.close(() => resolve()); }));
  return { base: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1`, requests };
}

test('tool calls are parsed and mapped back to skill ids; tools are offered from the skill schemas', async (t) => {
  const { base, requests } = await server(t);
  const rt = new OpenAiChatRuntime({ endpoint: base, model: 'good' });
  const p = await rt.propose({ task: 'list patients', context: [{ source: 'note/1', text: 'ward w1' }], tools, signal: new AbortController().signal });
  assert.deepEqual(p.calls, [
    { skill: 'records.read', args: { collection: 'patients', limit: 5 } },
    { skill: 'shell.exec', args: { cmd: 'rm -rf /' } },       // not offered: passed on for the gate to refuse and record
    { skill: 'records.export', args: '{"collection": patients' }, // not JSON: stays a string, fails schema validation
  ]);
  const req = requests[0]!;
  assert.equal(req['path'], '/v1/chat/completions');
  assert.equal(req['temperature'], 0);
  const offered = req['tools'] as { function: { name: string; parameters: unknown } }[];
  assert.deepEqual(offered.map((x) => x.function.name), ['records__read', 'records__write', 'documents__generate', 'web__fetch', 'records__export']);
  assert.deepEqual(offered[0]!.function.parameters, tools[0]!.parameters);
  assert.match(JSON.stringify(req['messages']), /<context source=\\"note\/1\\">/);
  const txt = await new OpenAiChatRuntime({ endpoint: base.replace('/v1', ''), model: 'text' }).propose({ task: 'x', context: [], tools: [], signal: new AbortController().signal });
  assert.deepEqual(txt, { text: 'Nothing to do.', calls: [] });
  assert.equal(requests[1]!['path'], '/v1/chat/completions');
  assert.equal('tools' in requests[1]!, false);
});

test('malformed, failed and oversized responses are rejected', async (t) => {
  const { base } = await server(t);
  const run = (model: string, max?: number) => new OpenAiChatRuntime({ endpoint: base, model, ...(max ? { maxResponseBytes: max } : {}) })
    .propose({ task: 'x', context: [], tools, signal: new AbortController().signal });
  await assert.rejects(run('no-choices'), code('ERR_INPUT', /malformed.*no choices/));
  await assert.rejects(run('bad-calls'), code('ERR_INPUT', /tool_calls is not an array/));
  await assert.rejects(run('not-json'), code('ERR_INPUT', /not JSON/));
  await assert.rejects(run('http500'), code('ERR_INTERNAL', /HTTP 500/));
  await assert.rejects(run('huge', 1024), code('ERR_TOO_LARGE'));
});

test('abort (revocation) cancels an in-flight request; a timeout is reported', async (t) => {
  const { base, requests } = await server(t);
  const ac = new AbortController();
  const p = new OpenAiChatRuntime({ endpoint: base, model: 'hang' }).propose({ task: 'x', context: [], tools, signal: ac.signal });
  // Abort once the server has the request (deterministic: polling the server's record, no timing asserted).
  while (requests.length === 0) await new Promise((r) => setImmediate(r));
  ac.abort(new SiosError('ERR_REVOKED', 'brain revoked'));
  await assert.rejects(p, code('ERR_REVOKED'));
  await assert.rejects(new OpenAiChatRuntime({ endpoint: base, model: 'hang', timeoutMs: 50 }).propose({ task: 'x', context: [], tools, signal: new AbortController().signal }), code('ERR_INTERNAL', /did not answer within 50 ms/));
});

test('review returns the verdict from submit_verdict; no verdict is an error', async (t) => {
  const { base, requests } = await server(t);
  const v = await new OpenAiChatRuntime({ endpoint: base, model: 'review' }).review({ proposal: { skill: 'records.export', args: { collection: 'patients', format: 'csv' } }, dryRun: { rows: 3 }, signal: new AbortController().signal });
  assert.deepEqual(v, { verdict: 'reject', reason: 'exports insurance ids' });
  assert.deepEqual(requests[0]!['tool_choice'], { type: 'function', function: { name: 'submit_verdict' } });
  await assert.rejects(new OpenAiChatRuntime({ endpoint: base, model: 'review-bad' }).review({ proposal: { skill: 'a.b', args: {} }, dryRun: null, signal: new AbortController().signal }), code('ERR_INPUT', /no verdict/));
});

test('only literal loopback endpoints are accepted (zero egress)', () => {
  for (const ok of ['http://127.0.0.1:8080/v1', 'http://127.0.0.2:11434', 'http://[::1]:8000/v1']) assert.equal(checkLoopbackEndpoint(ok).protocol, 'http:');
  for (const bad of ['http://10.0.0.1:8080/v1', 'http://localhost:8080', 'http://api.openai.com/v1', 'https://127.0.0.1/v1', 'http://169.254.169.254/', 'http://[::ffff:127.0.0.1]/', 'http://0.0.0.0:8080']) {
    assert.throws(() => checkLoopbackEndpoint(bad), code('ERR_EGRESS'), bad);
  }
  assert.throws(() => checkLoopbackEndpoint('http://user:pw@127.0.0.1/'), code('ERR_INPUT'));
  assert.throws(() => checkLoopbackEndpoint('not a url'), code('ERR_INPUT'));
  assert.throws(() => new OpenAiChatRuntime({ endpoint: 'http://8.8.8.8/v1', model: 'x' }), code('ERR_EGRESS'));
  assert.throws(() => new OpenAiChatRuntime({ endpoint: 'http://127.0.0.1/v1', model: 'x', apiKey: 'k' } as never), code('ERR_INPUT', /unknown OpenAI runtime option/));
});
