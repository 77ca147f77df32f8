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

// Everything a careless worker might print, run in its own process with library logging on.
const WORKER = `
  const util = require('node:util')
  const { SECRETS_MANAGER, SecretsManager } = require('starfleet-secrets')
  const [name, malformed, stringDoc, region] = process.argv.slice(1)
  const show = (label, x) => {
    console.log(label, util.inspect(x, { showHidden: true, depth: Infinity }))
    console.error(label, JSON.stringify(x), String(x))
  }
  const fail = async (label, promise) => {
    try { await promise; console.log(label, 'resolved?!') } catch (e) {
      show(label, e); console.error(e.stack); console.log(label, e.code)
    }
  }
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
    // A failing refresh with a value cached logs a stale-if-error warning.
    const m = new SecretsManager({ secretId: name, region, ttl: 0.1 })
    await m.secrets()
    await fetch(process.env.STARFLEET_TEST_PROXY + '/__harness/faults', {
      method: 'POST', body: JSON.stringify({ secret_id: name, action: 'error', status: 500, times: 0 }) })
    await new Promise((r) => setTimeout(r, 200))
    await m.get('STARFLEET.SlackToken')
    await fail('refresh', m.refresh())
    show('stale manager', m)
    show('stale stats', m.stats())
    console.log('ok')
  })()
`

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
    for (const line of ['deeper KEY_NOT_FOUND', 'missing KEY_NOT_FOUND', 'binary SECRET_FORMAT', 'malformed SECRET_FORMAT', 'string SECRET_FORMAT', 'refresh SERVICE', 'ok']) {
      assert.ok(r.stdout.includes(line), `${line}\n${r.stdout}`)
    }
    assert.match(r.stderr, /\[starfleet-secrets (WARN|DEBUG)\]/, 'library logging was on')
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
