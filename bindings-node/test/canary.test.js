'use strict'
// A canary value must never show up anywhere but in the value the caller asked for: not in
// stdout/stderr (library logs at trace level included), error messages, stacks,
// util.inspect or JSON.stringify output.

const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const util = require('node:util')
const { test } = require('node:test')

const { SecretsManager, StarfleetSecretsError } = require('..')
const h = require('./helpers')

const CANARY = `CANARY-${crypto.randomBytes(12).toString('hex')}`

// Everything a careless worker might print, run in its own process with library logging on:
// success, every error code the package can produce from a real condition (moto's answers,
// AWS errors injected by the fault proxy, a hung connection, a closed port, bad options, no
// location), each error shown every way, and the managers and their stats.
const WORKER = `
  const net = require('node:net')
  const util = require('node:util')
  const { SECRETS_MANAGER, SecretsManager } = require('starfleet-secrets')
  const [name, malformed, stringDoc, region] = process.argv.slice(1)
  const show = (label, x) => {
    console.log(label, util.inspect(x, { showHidden: true, depth: Infinity }))
    console.error(label, JSON.stringify(x), String(x))
  }
  // A promise, or a function that may throw synchronously (a constructor) or return one.
  const fail = async (label, attempt) => {
    try {
      await (typeof attempt === 'function' ? attempt() : attempt)
      console.log(label, 'resolved?!')
    } catch (e) {
      show(label, e); console.error(e.stack); console.log(label, e.code)
    }
  }
  const control = async (method, route, body) => {
    const r = await fetch(process.env.STARFLEET_TEST_PROXY + '/__harness/' + route, {
      method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body && JSON.stringify(body) })
    if (!r.ok) throw new Error('harness ' + method + ' ' + route + ': ' + (await r.text()))
  }
  const addFault = (action, extra) => control('POST', 'faults', { secret_id: name, action, times: 0, ...extra })
  const clearFaults = () => control('DELETE', 'faults?secret_id=' + encodeURIComponent(name))
  const closedPort = async () => {
    const server = net.createServer()
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address()
    await new Promise((r) => server.close(r))
    return port
  }
  const open = (extra) => new SecretsManager({ secretId: name, region, ...extra })
  ;(async () => {
    const token = await SECRETS_MANAGER.get('STARFLEET.SlackToken')
    console.log('read', token.length, 'characters')
    show('manager', SECRETS_MANAGER)
    show('stats', SECRETS_MANAGER.stats())
    await fail('deeper', SECRETS_MANAGER.get('STARFLEET.SlackToken.deeper'))
    await fail('missing', SECRETS_MANAGER.get('STARFLEET.Nope'))
    await fail('binary', SECRETS_MANAGER.secretBinary())
    await fail('malformed', new SecretsManager({ secretId: malformed, region }).secrets())
    await fail('string', new SecretsManager({ secretId: stringDoc, region }).secrets())

    // The secret, or the version, does not exist.
    await fail('absent', new SecretsManager({ secretId: name + '-absent', region }).get('STARFLEET.SlackToken'))
    await fail('unknown-stage', open({ versionStage: 'NOPE' }).get('STARFLEET.SlackToken'))

    // AWS failures injected by the fault proxy on the canary secret, each on a fresh manager.
    let m
    for (const [label, action, extra] of [
      ['access-denied', 'error', { status: 400, code: 'AccessDeniedException', message: 'denied' }],
      ['decryption', 'error', { status: 400, code: 'DecryptionFailure' }],
      ['throttled', 'throttle', {}],
      ['service', 'error', { status: 503, code: 'ServiceUnavailable' }],
      ['rejected-credentials', 'error', { status: 400, code: 'UnrecognizedClientException' }],
    ]) {
      await addFault(action, extra)
      try {
        m = open()
        await fail(label, m.get('STARFLEET.SlackToken'))
        show(label + ' manager', m)
        show(label + ' stats', m.stats())
      } finally {
        await clearFaults()
      }
    }
    await addFault('hang', { hang_ms: 5000 })
    try {
      m = open({ timeout: 1 })
      await fail('timeout', m.get('STARFLEET.SlackToken'))
      show('timeout manager', m)
    } finally {
      await clearFaults()
    }
    m = open({ endpointUrl: 'http://127.0.0.1:' + (await closedPort()) })
    await fail('network', m.get('STARFLEET.SlackToken'))
    // A couple of failures on one manager (the second answered from the failure backoff,
    // without a fetch), then its stats.
    await fail('network-again', m.secrets())
    const s = m.stats()
    show('failed stats', s)
    console.log('failed-stats fetches', s.fetches, 'failures', s.failures, 'misses', s.misses, 'last_error', s.last_error)

    // Arguments and configuration.
    await fail('bad-region', open({ region: 'Not-A-Region' }).get('STARFLEET.SlackToken'))
    await fail('negative-timeout', () => open({ timeout: -1 }).get('STARFLEET.SlackToken'))
    await fail('stage-and-id', () => open({ versionStage: 'AWSCURRENT', versionId: 'v1' }).get('STARFLEET.SlackToken'))
    await fail('no-path', SECRETS_MANAGER.get())
    // No location anywhere: the environment's is taken away for this one manager.
    const saved = { id: process.env.STARFLEET_SECRET_ID, region: process.env.STARFLEET_SECRET_REGION }
    delete process.env.STARFLEET_SECRET_ID
    delete process.env.STARFLEET_SECRET_REGION
    try {
      m = new SecretsManager()
      await fail('no-location', m.get('STARFLEET.SlackToken'))
      show('no-location manager', m)
    } finally {
      process.env.STARFLEET_SECRET_ID = saved.id
      process.env.STARFLEET_SECRET_REGION = saved.region
    }

    // A failing refresh with a value cached logs a stale-if-error warning.
    m = new SecretsManager({ secretId: name, region, ttl: 0.1 })
    await m.secrets()
    await addFault('error', { status: 500 })
    await new Promise((r) => setTimeout(r, 200))
    await m.get('STARFLEET.SlackToken')
    await fail('refresh', m.refresh())
    show('stale manager', m)
    show('stale stats', m.stats())
    show('manager at the end', SECRETS_MANAGER)
    show('stats at the end', SECRETS_MANAGER.stats())
    console.log('ok')
  })()
`

const EXPECTED = [
  'deeper KEY_NOT_FOUND',
  'missing KEY_NOT_FOUND',
  'binary SECRET_FORMAT',
  'malformed SECRET_FORMAT',
  'string SECRET_FORMAT',
  'absent SECRET_NOT_FOUND',
  'unknown-stage SECRET_NOT_FOUND',
  'access-denied ACCESS_DENIED',
  'decryption DECRYPTION_FAILED',
  'throttled THROTTLED',
  'service SERVICE',
  'rejected-credentials CREDENTIALS',
  'timeout TIMEOUT',
  'network NETWORK',
  'network-again NETWORK',
  'failed-stats fetches 1 failures 1 misses 2 last_error NETWORK',
  'bad-region CONFIG_INVALID',
  'negative-timeout INVALID_ARGUMENT',
  'stage-and-id INVALID_ARGUMENT',
  'no-path INVALID_ARGUMENT',
  'no-location CONFIG_MISSING',
  'refresh SERVICE',
  'ok',
]

test('the canary never appears in output, errors, logs or inspect output', async () => {
  const name = h.unique('canary')
  const malformed = h.unique('canary-malformed')
  const stringDoc = h.unique('canary-string')
  await h.createSecret(name, { STARFLEET: { SlackToken: CANARY }, Other: { k: `${CANARY}-2` } })
  await h.createSecret(malformed, `{"k": "${CANARY}" oops`)
  await h.createSecret(stringDoc, JSON.stringify(CANARY))
  try {
    const r = await h.runNode(['-e', WORKER, name, malformed, stringDoc, h.REGION], {
      env: { STARFLEET_SECRET_ID: name, STARFLEET_SECRET_REGION: h.REGION, STARFLEET_LOG: 'trace', STARFLEET_CONFIG: undefined },
    })
    assert.equal(r.code, 0, r.stderr)
    // The worker really read the canary and really went through every failure.
    assert.match(r.stdout, new RegExp(`read ${CANARY.length} characters`))
    const lines = new Set(r.stdout.split('\n'))
    for (const line of EXPECTED) assert.ok(lines.has(line), `${line}\n${r.stdout}`)
    assert.ok(!r.stdout.includes('resolved?!'), r.stdout)
    assert.match(r.stderr, /^\[starfleet-secrets DEBUG\] /m, 'library logging was on')
    assert.ok(!r.stdout.includes('CANARY-'), r.stdout)
    assert.ok(!r.stderr.includes('CANARY-'), r.stderr)
  } finally {
    await h.clearFaults(name)
  }
})

test('in-process errors and inspect output hold no canary', async () => {
  const name = h.unique('canary-inproc')
  await h.createSecret(name, { S: { Tok: CANARY } })
  const m = new SecretsManager({ secretId: name, region: h.REGION })
  assert.equal(await m.get('S.Tok'), CANARY)
  const errors = []
  for (const attempt of [() => m.get('S.Tok.x'), () => m.get('S.Nope'), () => m.secretBinary()]) {
    try {
      await attempt()
    } catch (e) {
      errors.push(e)
    }
  }
  try {
    m.cached('S.Tok.x')
  } catch (e) {
    errors.push(e)
  }
  assert.equal(errors.length, 4)
  const views = [util.inspect(m), JSON.stringify(m), util.inspect(m, { showHidden: true, depth: Infinity })]
  for (const e of errors) {
    assert.ok(e instanceof StarfleetSecretsError)
    views.push(e.message, e.stack, util.inspect(e, { showHidden: true }), JSON.stringify(e), String(e))
  }
  for (const view of views) assert.ok(!view.includes('CANARY-'), view)
})
