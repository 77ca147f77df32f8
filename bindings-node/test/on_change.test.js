'use strict'
// onChange: a new VersionId put through the API reaches the callback on the JS thread with the
// old and new ids; a throwing callback is a warning and never breaks the read; callbacks may call
// back into the manager; the unsubscribe function stops the calls; a subscription never keeps
// the process alive.

const assert = require('node:assert/strict')
const { test } = require('node:test')
const { isMainThread } = require('node:worker_threads')

const { SecretsManager } = require('..')
const h = require('./helpers')

const open = (name, extra = {}) => new SecretsManager({ secretId: name, region: h.REGION, ttl: 'never', ...extra })

/** A callback recording its calls, and a promise of the next call. */
function recorder() {
  const calls = []
  let wake = () => {}
  const record = (oldVersionId, newVersionId) => {
    calls.push([oldVersionId, newVersionId])
    wake()
  }
  const next = () => h.settlesWithin(new Promise((resolve) => (wake = resolve)), 5000, 'the onChange call')
  return { calls, record, next }
}

test('a put version reaches the callback on the JS thread with the old and new ids', async () => {
  const name = h.unique('notify')
  const v1 = await h.createSecret(name, { k: 'one' })
  const m = open(name)
  const r = recorder()
  let onJsThread = true
  m.onChange((...args) => {
    onJsThread &&= isMainThread
    r.record(...args)
  })
  let called = r.next()
  await m.secrets()
  await called
  assert.deepEqual(r.calls, [[null, v1]], 'the first load reports no old id')
  await m.refresh()
  m.invalidate()
  await m.secrets()
  await h.sleep(200)
  assert.equal(r.calls.length, 1, 'the same version again is no change')
  const v2 = await h.putSecret(name, { k: 'two' })
  called = r.next()
  await m.refresh()
  await called
  assert.deepEqual(r.calls, [
    [null, v1],
    [v1, v2],
  ])
  assert.ok(onJsThread)
})

test('a callback may call back into the manager and sees the new value', async () => {
  const name = h.unique('notify-reenter')
  await h.createSecret(name, { k: 'one' })
  const m = open(name)
  await m.secrets()
  const seen = h.settlesWithin(
    new Promise((resolve, reject) => {
      m.onChange((oldVersionId, newVersionId) => {
        const cached = m.cached('k')
        const stats = m.stats()
        m.refresh().then(() => resolve([cached, stats.version_id === newVersionId]), reject)
      })
    }),
    5000,
  )
  await h.putSecret(name, { k: 'two' })
  await m.refresh()
  assert.deepEqual((await seen).value, ['two', true])
})

test('a throwing callback is a warning, never a broken read or an uncaught exception', async () => {
  const canary = `CANARY-${process.pid}-${Date.now()}`
  const name = h.unique('notify-throw')
  await h.createSecret(name, { k: canary })
  const m = open(name)
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    m.onChange(() => {
      throw new TypeError(`callback failed holding ${canary}`)
    })
    const r = recorder()
    m.onChange(r.record)
    const called = r.next()
    assert.equal(await m.get('k'), canary)
    await called
    await h.sleep(50) // process warnings are emitted on the next tick
    const ours = warnings.filter((w) => w.code === 'STARFLEET_SECRETS_ON_CHANGE')
    assert.equal(ours.length, 1, String(warnings))
    assert.match(ours[0].message, /onChange callback threw TypeError/)
    assert.ok(!ours[0].message.includes(canary))
  } finally {
    process.off('warning', onWarning)
  }
})

test('the unsubscribe function stops the calls', async () => {
  const name = h.unique('notify-cancel')
  await h.createSecret(name, { k: 1 })
  const m = open(name)
  const r = recorder()
  const unsubscribe = m.onChange(r.record)
  const called = r.next()
  await m.secrets()
  await called
  unsubscribe()
  unsubscribe()
  await h.putSecret(name, { k: 2 })
  await m.refresh()
  await h.sleep(200)
  assert.equal(r.calls.length, 1)
  assert.throws(() => m.onChange('nope'), { code: 'INVALID_ARGUMENT' })
})

test('configure() keeps the callbacks, and another secret is a change', async () => {
  const [a, b] = [h.unique('notify-a'), h.unique('notify-b')]
  const va = await h.createSecret(a, { v: 'a' })
  const vb = await h.createSecret(b, { v: 'b' })
  const m = open(a)
  const r = recorder()
  m.onChange(r.record)
  let called = r.next()
  await m.secrets()
  await called
  m.configure({ secretId: b, region: h.REGION, ttl: 'never' })
  called = r.next()
  await m.secrets()
  await called
  assert.deepEqual(r.calls, [
    [null, va],
    [va, vb],
  ])
})

test('testing overrides never call it', async () => {
  const m = open(h.unique('notify-pin'))
  const r = recorder()
  m.onChange(r.record)
  m.pin({ k: 'pinned' })
  assert.deepEqual(await m.secrets(), { k: 'pinned' })
  await m.refresh()
  await h.sleep(100)
  assert.deepEqual(r.calls, [])
})

test('a subscription never keeps the process alive', async () => {
  const name = h.unique('notify-exit')
  await h.createSecret(name, { k: 1 })
  const script = `
    const { SecretsManager } = require('starfleet-secrets')
    const m = new SecretsManager({ secretId: ${JSON.stringify(name)}, region: ${JSON.stringify(h.REGION)} })
    m.onChange((o, n) => console.log('changed', o, typeof n))
    m.secrets().then(() => setTimeout(() => console.log('done'), 100))
  `
  const started = Date.now()
  const out = await h.runNode(['-e', script], { timeoutMs: 15000 })
  assert.equal(out.code, 0, out.stderr)
  assert.match(out.stdout, /changed null string\ndone/)
  assert.ok(Date.now() - started < 10000)
})

test('a callback that captures its manager does not keep it alive (the cycle goes through Rust)', async () => {
  const script = `
    const { SecretsManager } = require('starfleet-secrets')
    const freed = new FinalizationRegistry((what) => console.log('freed', what))
    ;(() => {
      const m = new SecretsManager({ secretId: 'never-read', region: 'us-east-2' })
      m.onChange(() => m.stats())
      freed.register(m, 'manager')
    })()
    let rounds = 0
    const again = () => {
      global.gc()
      if (++rounds < 20) setTimeout(again, 20)
    }
    again()
  `
  const out = await h.runNode(['--expose-gc', '-e', script], { timeoutMs: 15000 })
  assert.equal(out.code, 0, out.stderr)
  assert.match(out.stdout, /freed manager/, 'the manager was never collected')
})
