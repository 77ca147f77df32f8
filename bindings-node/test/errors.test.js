'use strict'
// Each stable error code, triggered through a real condition: a missing or broken
// configuration, moto's own answers, AWS errors injected by the fault proxy, a hung
// connection, a closed port, a process without credentials.

const assert = require('node:assert/strict')
const net = require('node:net')
const { test, before } = require('node:test')

const { SecretsManager, StarfleetSecretsError } = require('..')
const h = require('./helpers')

const open = (name, extra = {}) => new SecretsManager({ secretId: name, region: h.REGION, ...extra })

/** The rejection of `promise`, checked to be a StarfleetSecretsError with `code`. */
async function rejection(promise, code, withinMs = 20000) {
  assert.ok(promise instanceof Promise)
  const settled = await h.settlesWithin(promise, withinMs)
  assert.equal(settled.status, 'rejected', `expected ${code}`)
  const e = settled.reason
  assert.ok(e instanceof StarfleetSecretsError, `not a StarfleetSecretsError: ${e}`)
  assert.ok(e instanceof Error)
  assert.equal(e.name, 'StarfleetSecretsError')
  assert.equal(e.code, code, e.message)
  assert.equal(typeof e.message, 'string')
  assert.ok(e.message.length > 10, e.message)
  return e
}

before(() => {
  for (const v of ['STARFLEET_SECRET_ID', 'STARFLEET_SECRET_REGION', 'STARFLEET_CONFIG', 'AWS_REGION', 'AWS_DEFAULT_REGION']) {
    delete process.env[v]
  }
})

test('CONFIG_MISSING names every place that was looked at', async () => {
  const e = await rejection(new SecretsManager().get('STARFLEET.SlackToken'), 'CONFIG_MISSING')
  for (const place of ['secret_id', 'STARFLEET_SECRET_ID', 'STARFLEET_CONFIG']) assert.match(e.message, new RegExp(place))
  const stanzaless = new SecretsManager({ config: { yaml: 'GitHubSyncWorker:\n  Enabled: true\n', name: 'workers.yaml' } })
  const e2 = await rejection(stanzaless.secrets(), 'CONFIG_MISSING')
  assert.match(e2.message, /workers\.yaml/)
})

test('CONFIG_INVALID names the file and the key path', async () => {
  const badRegion = new SecretsManager({
    config: { yaml: 'STARFLEET:\n  SecretsManager:\n    SecretId: X\n    SecretRegion: Ohio\n', name: 'inline.yaml' },
  })
  const e = await rejection(badRegion.get('x'), 'CONFIG_INVALID')
  assert.match(e.message, /inline\.yaml/)
  assert.match(e.message, /SecretRegion/)
  const malformed = new SecretsManager({ config: { yaml: 'STARFLEET: [unclosed\n', name: 'broken.yaml' } })
  assert.match((await rejection(malformed.get('x'), 'CONFIG_INVALID')).message, /broken\.yaml/)
  const missing = new SecretsManager({ config: '/nonexistent/starfleet-config' })
  assert.match((await rejection(missing.get('x'), 'CONFIG_INVALID')).message, /nonexistent\/starfleet-config/)
})

test('SECRET_NOT_FOUND names the secret and region, and a hot loop does not hammer the API', async () => {
  const name = h.unique('absent')
  const m = open(name)
  const e = await rejection(m.get('x'), 'SECRET_NOT_FOUND')
  assert.match(e.message, new RegExp(name))
  assert.match(e.message, new RegExp(h.REGION))
  assert.equal(await h.getCount(name), 1, 'not found is not retried')
  const started = Date.now()
  for (let i = 0; i < 50; i++) await rejection(m.get('x'), 'SECRET_NOT_FOUND')
  assert.ok(Date.now() - started < 2000)
  assert.equal(await h.getCount(name), 1, 'no calls during the backoff')
  await h.createSecret(name, { x: 'now it exists' })
  m.invalidate()
  assert.equal(await m.get('x'), 'now it exists')
})

test('ACCESS_DENIED and DECRYPTION_FAILED from AWS error codes injected by the proxy', async () => {
  for (const [aws, code] of [
    ['AccessDeniedException', 'ACCESS_DENIED'],
    ['DecryptionFailure', 'DECRYPTION_FAILED'],
  ]) {
    const name = h.unique(code.toLowerCase())
    await h.createSecret(name, { v: 1 })
    await h.fault(name, 'error', { status: 400, code: aws, message: 'injected' }, 0)
    const e = await rejection(open(name).get('v'), code)
    assert.match(e.message, new RegExp(aws))
    assert.match(e.message, new RegExp(name))
    assert.equal(await h.getCount(name), 1, `${aws} is not retried`)
  }
})

test('THROTTLED when throttling outlasts the retries', async () => {
  const name = h.unique('throttled')
  await h.createSecret(name, { v: 1 })
  await h.fault(name, 'throttle', {}, 0)
  await rejection(open(name).get('v'), 'THROTTLED')
  assert.equal(await h.getCount(name), 3, 'retried, then given up')
})

test('one throttled answer is retried away', async () => {
  const name = h.unique('throttle-once')
  await h.createSecret(name, { v: 'ok' })
  await h.fault(name, 'throttle', {}, 1)
  assert.equal(await open(name).get('v'), 'ok')
  assert.equal(await h.getCount(name), 2)
})

test('SERVICE for server errors', async () => {
  const name = h.unique('service')
  await h.createSecret(name, { v: 1 })
  await h.fault(name, 'error', { status: 503, code: 'ServiceUnavailable' }, 0)
  const e = await rejection(open(name).get('v'), 'SERVICE')
  assert.match(e.message, new RegExp(name))
})

test('TIMEOUT when the server never answers, within the deadline', async () => {
  const name = h.unique('hang')
  await h.createSecret(name, { v: 1 })
  await h.fault(name, 'hang', { hang_ms: 20000 }, 0)
  const started = Date.now()
  try {
    const e = await rejection(open(name, { timeout: 1 }).get('v'), 'TIMEOUT', 10000)
    assert.match(e.message, new RegExp(name))
    assert.ok(Date.now() - started < 4000, `${Date.now() - started} ms`)
  } finally {
    await h.clearFaults(name)
  }
})

test('concurrent refresh() calls on a hung endpoint share one fetch and end within the deadline', async () => {
  const name = h.unique('refresh-herd')
  await h.createSecret(name, { v: 1 })
  await h.fault(name, 'hang', { hang_ms: 20000 }, 0)
  const m = open(name, { timeout: 1 })
  const started = Date.now()
  try {
    const errors = await Promise.all(Array.from({ length: 8 }, () => rejection(m.refresh(), 'TIMEOUT', 10000)))
    assert.equal(errors.length, 8)
    // The 1 s timeout, its 1 s hard-deadline slack, and 1 s of margin (8 fetches in turn took 8 s).
    assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`)
    assert.equal(m.stats().fetches, 1)
  } finally {
    await h.clearFaults(name)
  }
})

test('NETWORK when the endpoint refuses connections', async () => {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  const m = open('AnySecret', { endpointUrl: `http://127.0.0.1:${port}` })
  await rejection(m.get('v'), 'NETWORK')
})

test('NETWORK when the connection is reset every time', async () => {
  const name = h.unique('reset')
  await h.createSecret(name, { v: 1 })
  await h.fault(name, 'reset', {}, 0)
  await rejection(open(name).get('v'), 'NETWORK')
})

test('CREDENTIALS in a process without credentials, without stalling', async () => {
  const code = `
    const { SecretsManager } = require('starfleet-secrets')
    new SecretsManager({ secretId: 'Any', region: 'us-east-2' }).get('x').then(
      () => console.log('resolved?!'),
      (e) => console.log(e.constructor.name, e.code))`
  const r = await h.runNode(['-e', code], {
    env: {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'StarfleetSecretsError CREDENTIALS')
  assert.ok(r.ms < 8000, `${r.ms} ms`)
})

test('CREDENTIALS when AWS rejects the credentials', async () => {
  const name = h.unique('badcreds')
  await h.createSecret(name, { v: 1 })
  await h.fault(name, 'error', { status: 400, code: 'UnrecognizedClientException' }, 0)
  await rejection(open(name).get('v'), 'CREDENTIALS')
})

test('SECRET_FORMAT says what was found, never the content', async () => {
  for (const [text, kind] of [
    ['[1,2]', 'an array'],
    ['"just text"', 'a string'],
    ['not json {', 'not valid JSON'],
  ]) {
    const name = h.unique('format')
    await h.createSecret(name, text)
    const e = await rejection(open(name).secrets(), 'SECRET_FORMAT')
    assert.match(e.message, new RegExp(kind))
    assert.ok(!e.message.includes('just text') && !e.message.includes('not json'), e.message)
  }
  const name = h.unique('format-value')
  await h.createSecret(name, { n: 5 })
  // A value of any JSON type is returned as is; SECRET_FORMAT is about the document's shape.
  assert.equal(await open(name).get('n'), 5)
})

test('KEY_NOT_FOUND names the key path and the first key that failed', async () => {
  const name = h.unique('keys')
  await h.createSecret(name, { S: { Tok: 'value-here' } })
  const m = open(name)
  const e = await rejection(m.get('S.Missing'), 'KEY_NOT_FOUND')
  assert.match(e.message, /S\.Missing/)
  const deeper = await rejection(m.get('S.Tok.deeper'), 'KEY_NOT_FOUND')
  assert.match(deeper.message, /S\.Tok is a string/)
  assert.ok(!deeper.message.includes('value-here'))
  assert.throws(() => m.cached('Nope'), (err) => err.code === 'KEY_NOT_FOUND')
})

test('INVALID_ARGUMENT for unusable arguments: rejected by async methods, thrown by sync ones', async () => {
  const m = new SecretsManager({ secretId: 'x', region: h.REGION })
  await rejection(m.get(), 'INVALID_ARGUMENT')
  await rejection(m.get('a\\x'), 'INVALID_ARGUMENT')
  await rejection(m.get({}), 'INVALID_ARGUMENT')
  assert.throws(() => m.cached('.a'), (e) => e instanceof StarfleetSecretsError && e.code === 'INVALID_ARGUMENT')
  assert.throws(() => new SecretsManager({ ttl: 'tomorrow' }), (e) => e.code === 'INVALID_ARGUMENT')
})

test('INTERNAL: a panic in Rust throws or rejects; it never crashes Node or leaves a Promise pending', async () => {
  const native = require('../binding.js')
  assert.throws(() => native.__selfTest('sync'), (e) => e.code === 'INVALID_ARGUMENT', 'inert by default')
  process.env.STARFLEET_SECRETS_SELF_TEST = '1'
  try {
    // Core's panic policy: the payload's text is never shown (it could quote anything).
    assert.throws(() => native.__selfTest('sync'), (e) => e.code === 'INTERNAL' && /panic/.test(e.message) && !/deliberate/.test(e.message))
    const settled = await h.settlesWithin(native.__selfTest('async'), 5000)
    assert.equal(settled.status, 'rejected')
    assert.equal(settled.reason.code, 'INTERNAL')
  } finally {
    delete process.env.STARFLEET_SECRETS_SELF_TEST
  }
  // The addon and its runtime keep working afterwards.
  const name = h.unique('after-panic')
  await h.createSecret(name, { v: 'still fine' })
  assert.equal(await open(name).get('v'), 'still fine')
})

test('errors serialise without values', async () => {
  const name = h.unique('serialise')
  await h.createSecret(name, { S: 'secret-value-xyz' })
  const e = await rejection(open(name).get('S.x'), 'KEY_NOT_FOUND')
  const json = JSON.parse(JSON.stringify(e))
  assert.deepEqual(Object.keys(json).sort(), ['code', 'message', 'name'])
  assert.equal(json.code, 'KEY_NOT_FOUND')
  assert.ok(!JSON.stringify(e).includes('secret-value-xyz'))
  assert.ok(!require('node:util').inspect(e).includes('secret-value-xyz'))
})

test('the code list (index.d.ts and the runtime codes) matches the shared table', () => {
  // tests/vectors/error-codes.json is checked against core/src/error.rs by the Rust suite;
  // here Node's lists are checked against it: the `Code` union that TypeScript users see,
  // the runtime `codes` object, and each error's `number` and `transient` (both core's).
  const fs = require('node:fs')
  const path = require('node:path')
  const { codes } = require('..')
  const table = JSON.parse(fs.readFileSync(path.join(__dirname, '../../tests/vectors/error-codes.json'), 'utf8')).codes
  const dts = fs.readFileSync(path.join(__dirname, '../index.d.ts'), 'utf8')
  const union = dts.match(/export type Code =([^]*?)\n\n/)
  assert.ok(union, 'index.d.ts declares `export type Code`')
  const declared = [...union[1].matchAll(/'([A-Z_]+)'/g)].map((m) => m[1])
  assert.deepEqual(declared, table.map((e) => e.code), 'index.d.ts Code union')
  assert.deepEqual(Object.keys(codes), table.map((e) => e.code), 'runtime codes')
  for (const e of table) {
    const error = new StarfleetSecretsError(e.code, 'x')
    assert.equal(error.number, e.number, e.code)
    assert.equal(error.transient, e.transient, e.code)
  }
})
