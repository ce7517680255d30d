'use strict';
// A gRPC client no one on the bridge team wrote: stock @grpc/grpc-js with the .proto files
// loaded at run time by @grpc/proto-loader. NodeClientTest runs it against a bridge's grpc://
// endpoint, directly and through the forwarding bridge.
//
//   node client.js <target> [--proto-root DIR]
//
// <target> is grpc://host:port or host:port. Prints one "OK <case> ..." line per case and
// "ALL OK" at the end (exit 0); the first failure prints "FAIL <case>: <why>" (exit 1).
// Every call has a deadline, so the script cannot hang.

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const CALL_DEADLINE_MS = 10000;

function usage() {
  console.error('usage: node client.js <grpc://host:port | host:port> [--proto-root DIR]');
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length < 1) usage();
let target = args[0].replace(/^grpc:\/\//, '');
let protoRoot = path.resolve(__dirname, '../../../../proto/src/main/proto');
for (let i = 1; i < args.length; i++) {
  if (args[i] === '--proto-root' && i + 1 < args.length) protoRoot = args[++i];
  else usage();
}

const definition = protoLoader.loadSync(['bridge/demo/v1/echo.proto', 'bridge/kv/v1/kv.proto'], {
  includeDirs: [protoRoot],
  longs: String,
  enums: String,
  defaults: true,
});
const loaded = grpc.loadPackageDefinition(definition);
const creds = grpc.credentials.createInsecure();
const echo = new loaded.bridge.demo.v1.Echo(target, creds);
const kv = new loaded.bridge.kv.v1.KeyValue(target, creds);

const deadline = (ms = CALL_DEADLINE_MS) => ({ deadline: new Date(Date.now() + ms) });
const text = (b) => Buffer.from(b).toString('utf8');

function check(cond, why) {
  if (!cond) throw new Error(why);
}

function unary(client, method, request, ms) {
  return new Promise((resolve, reject) => {
    client[method](request, deadline(ms), (err, response) => (err ? reject(err) : resolve(response)));
  });
}

async function say() {
  const r = await unary(echo, 'Say', { payload: Buffer.from('hello from node') });
  check(text(r.payload) === 'hello from node', `payload ${JSON.stringify(text(r.payload))}`);
  return 'payload echoed';
}

function expand() {
  return new Promise((resolve, reject) => {
    const got = [];
    const call = echo.Expand({ payload: Buffer.from('x'), responseCount: 5 }, deadline());
    call.on('data', (m) => got.push(m.index));
    call.on('error', reject);
    call.on('end', () => {
      try {
        check(JSON.stringify(got) === '[0,1,2,3,4]', `indices ${JSON.stringify(got)}`);
        resolve('5 messages in order');
      } catch (e) {
        reject(e);
      }
    });
  });
}

function collect() {
  return new Promise((resolve, reject) => {
    const call = echo.Collect(deadline(), (err, r) => {
      if (err) return reject(err);
      try {
        check(r.receivedCount === 4, `receivedCount ${r.receivedCount}`);
        check(String(r.receivedBytes) === '12', `receivedBytes ${r.receivedBytes}`);
        resolve('4 messages, 12 bytes');
      } catch (e) {
        reject(e);
      }
    });
    for (const p of ['abc', 'def', 'ghi', 'jkl']) call.write({ payload: Buffer.from(p) });
    call.end();
  });
}

// Sends the next message only after the previous echo came back: a real conversation.
function chat() {
  return new Promise((resolve, reject) => {
    const words = ['one', 'two', 'three'];
    const got = [];
    const call = echo.Chat(deadline());
    call.on('data', (m) => {
      got.push(text(m.payload));
      if (got.length < words.length) call.write({ payload: Buffer.from(words[got.length]) });
      else call.end();
    });
    call.on('error', reject);
    call.on('end', () => {
      try {
        check(JSON.stringify(got) === JSON.stringify(words), `echoes ${JSON.stringify(got)}`);
        resolve('3 round trips');
      } catch (e) {
        reject(e);
      }
    });
    call.write({ payload: Buffer.from(words[0]) });
  });
}

async function statusError() {
  try {
    await unary(echo, 'Say', { failWithCode: grpc.status.NOT_FOUND, failWithMessage: 'no such thing' });
  } catch (e) {
    check(e.code === grpc.status.NOT_FOUND, `code ${e.code} (${e.details})`);
    check(e.details === 'no such thing', `details ${JSON.stringify(e.details)}`);
    return 'NOT_FOUND "no such thing"';
  }
  throw new Error('the call succeeded');
}

async function deadlineExceeded() {
  const started = Date.now();
  try {
    await unary(echo, 'Say', { payload: Buffer.from('slow'), delayMillis: 1500 }, 300);
  } catch (e) {
    const took = Date.now() - started;
    // The server answers after 1500 ms; DEADLINE_EXCEEDED means the 300 ms deadline ended the call first.
    // A gRPC server whose own copy of the deadline expires first resets the stream with CANCEL, and
    // grpc-js then reports CANCELLED. gRPC's PROTOCOL-HTTP2.md asks clients to double-check their
    // deadline when a call fails with CANCELLED (grpc-go does, grpc/grpc-go#2211), so this does:
    // a CANCELLED after the deadline, and long before the answer, is the deadline's doing.
    const expired = e.code === grpc.status.CANCELLED && took >= 300 && took < 1500;
    check(e.code === grpc.status.DEADLINE_EXCEEDED || expired, `code ${e.code} (${e.details}) after ${took} ms`);
    return e.code === grpc.status.DEADLINE_EXCEEDED
      ? `DEADLINE_EXCEEDED after ${took} ms`
      : `CANCELLED by the server's reset after ${took} ms, past the 300 ms deadline (counted as DEADLINE_EXCEEDED, as gRPC clients should)`;
  }
  throw new Error('the call succeeded');
}

async function keyValue() {
  const key = `node-${process.pid}-${Date.now()}`;
  const put = await unary(kv, 'Put', { key, value: Buffer.from('from node') });
  const got = await unary(kv, 'Get', { key });
  check(text(got.value) === 'from node', `value ${JSON.stringify(text(got.value))}`);
  check(String(got.version) === String(put.version), `version ${got.version} != ${put.version}`);
  return `put/get version ${got.version}`;
}

const cases = [
  ['unary', say],
  ['server-stream', expand],
  ['client-stream', collect],
  ['bidi', chat],
  ['status', statusError],
  ['deadline', deadlineExceeded],
  ['kv', keyValue],
];

(async () => {
  for (const [name, run] of cases) {
    try {
      console.log(`OK ${name} ${await run()}`);
    } catch (e) {
      console.log(`FAIL ${name}: ${e.code !== undefined ? `code ${e.code} ${e.details}` : e.message}`);
      process.exit(1);
    }
  }
  console.log('ALL OK');
  echo.close();
  kv.close();
  process.exit(0);
})();
