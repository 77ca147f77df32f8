'use strict'
// Every method of the public API, against moto behind the fault proxy.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const { describe, test, before } = require('node:test')

const { SECRETS_MANAGER, SecretsManager, StarfleetSecretsError, codes, coreVersion } = require('..')
const h = require('./helpers')

const starfleetDoc = (token) => ({
  STARFLEET: { SlackToken: token },
  GitHubSyncWorker: { 'my.org': '-----BEGIN KEY-----' },
  Numbers: { port: 8443, ratio: 0.5, on: true, none: null, list: [1, 'two', { three: 3 }] },
})

const open = (name, extra = {}) => new SecretsManager({ secretId: name, region: h.REGION, ...extra })

async function rejectsWith(promiseOrFn, code) {
  const promise = typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn
  assert.ok(promise instanceof Promise, 'an async method returns a Promise (and does not throw)')
  const settled = await h.settlesWithin(promise, 20000)
  assert.equal(settled.status, 'rejected', `expected ${code}, got a value`)
  const e = settled.reason
  assert.ok(e instanceof StarfleetSecretsError && e instanceof Error, `${e}`)
  assert.equal(e.code, code, e.message)
  return e
}

before(() => {
  // The location must come from each test's options, never from a developer's environment.
  for (const v of ['STARFLEET_SECRET_ID', 'STARFLEET_SECRET_REGION', 'STARFLEET_CONFIG', 'STARFLEET_SECRETS_TTL']) {
    delete process.env[v]
  }
})

describe('reading', () => {
  test('secrets() resolves to a frozen plain object, the same one while the version is unchanged', async () => {
    const name = h.unique('secrets')
    await h.createSecret(name, starfleetDoc('xoxb-1'))
    const m = open(name)
    const pending = m.secrets()
    assert.ok(pending instanceof Promise)
    const doc = await pending
    assert.equal(Object.getPrototypeOf(doc), Object.prototype)
    assert.deepEqual(doc, starfleetDoc('xoxb-1'))
    assert.ok(Object.isFrozen(doc) && Object.isFrozen(doc.STARFLEET) && Object.isFrozen(doc.Numbers.list))
    assert.equal(await m.secrets(), doc, 'same object, not re-converted')
    assert.equal(await h.getCount(name), 1)
  })

  test('keys keep the document order, as JSON.parse keeps it', async () => {
    const name = h.unique('order')
    const text = '{"Z": 1, "A": {"y": 1, "x": 2, "w": 3}, "M": 2}'
    await h.createSecret(name, text)
    const doc = await open(name).secrets()
    assert.deepEqual(Object.keys(doc), ['Z', 'A', 'M'])
    assert.equal(JSON.stringify(doc), JSON.stringify(JSON.parse(text)))
  })

  test('get() takes literal keys or one dotted string (with \\. escapes)', async () => {
    const name = h.unique('get')
    await h.createSecret(name, starfleetDoc('xoxb-get'))
    const m = open(name)
    assert.equal(await m.get('STARFLEET', 'SlackToken'), 'xoxb-get')
    assert.equal(await m.get('STARFLEET.SlackToken'), 'xoxb-get')
    assert.equal(await m.get('GitHubSyncWorker', 'my.org'), '-----BEGIN KEY-----')
    assert.equal(await m.get('GitHubSyncWorker.my\\.org'), '-----BEGIN KEY-----')
    assert.equal(await m.get('Numbers.port'), 8443)
    assert.equal(await m.get('Numbers.on'), true)
    assert.equal(await m.get('Numbers.none'), null)
    assert.deepEqual(await m.get('Numbers.list'), [1, 'two', { three: 3 }])
    assert.deepEqual(await m.get('STARFLEET'), { SlackToken: 'xoxb-get' })
    const e = await rejectsWith(m.get('STARFLEET.Missing'), 'KEY_NOT_FOUND')
    assert.match(e.message, new RegExp(name))
    assert.match(e.message, /STARFLEET\.Missing/)
    await rejectsWith(m.get(), 'INVALID_ARGUMENT')
    await rejectsWith(m.get('a..b'), 'INVALID_ARGUMENT')
    await rejectsWith(m.get('STARFLEET', 5), 'INVALID_ARGUMENT')
    assert.equal(await h.getCount(name), 1)
  })

  test('get() and cached() give the objects of secrets(); remembered key paths never mix up', async () => {
    const name = h.unique('identity')
    await h.createSecret(name, { A: { B: { C: 1 } }, 'a\u001fb': { c: 'first' }, a: { 'b\u001fc': 'second' }, 'x.y': 'dotted' })
    const m = open(name)
    const doc = await m.secrets()
    assert.equal(await m.get('A'), doc.A)
    assert.equal(await m.get('A.B'), doc.A.B)
    assert.equal(m.cached('A', 'B'), doc.A.B)
    for (let i = 0; i < 2; i++) {
      assert.equal(m.cached('a\u001fb', 'c'), 'first')
      await assert.rejects(m.get('a', 'b\u001fc', 'x'), (e) => e.code === 'KEY_NOT_FOUND')
      assert.equal(m.cached('a', 'b\u001fc'), 'second')
      assert.equal(await m.get('x\\.y'), 'dotted')
    }
    assert.throws(() => m.cached('x.y'), (e) => e.code === 'KEY_NOT_FOUND', 'one argument is dotted: x, then y')
    // A NUL cannot be in a key path in any language (C and Go strings end at one).
    assert.throws(() => m.cached('a\u0000b', 'c'), (e) => e.code === 'INVALID_ARGUMENT')
    await assert.rejects(async () => m.get('a\u0000b'), (e) => e.code === 'INVALID_ARGUMENT')
    assert.equal(await h.getCount(name), 1)
  })

  test('cached() is synchronous, never fetches, and answers once a value is cached', async () => {
    const name = h.unique('cached')
    await h.createSecret(name, starfleetDoc('xoxb-cached'))
    const m = open(name)
    assert.equal(m.cached('STARFLEET', 'SlackToken'), undefined)
    assert.equal(m.cached(), undefined)
    assert.equal(await h.getCount(name), 0, 'cached() made no call')
    const doc = await m.secrets()
    assert.equal(m.cached('STARFLEET', 'SlackToken'), 'xoxb-cached')
    assert.equal(m.cached('STARFLEET.SlackToken'), 'xoxb-cached')
    assert.equal(m.cached('Numbers.none'), null, 'a JSON null is null, not undefined')
    assert.equal(m.cached(), doc, 'the whole document is the same object secrets() gave')
    assert.throws(() => m.cached('STARFLEET.Missing'), (e) => e instanceof StarfleetSecretsError && e.code === 'KEY_NOT_FOUND')
    assert.throws(() => m.cached(1), (e) => e.code === 'INVALID_ARGUMENT')
    m.invalidate()
    assert.equal(m.cached('STARFLEET.SlackToken'), undefined)
    assert.equal(await h.getCount(name), 1)
  })

  test('refresh() fetches now and resolves to the new document', async () => {
    const name = h.unique('refresh')
    await h.createSecret(name, { v: 'one' })
    const m = open(name)
    const first = await m.secrets()
    const v2 = await h.putSecret(name, { v: 'two' })
    assert.equal(await m.secrets(), first, 'within the TTL: still the cached object')
    const refreshed = await m.refresh()
    assert.deepEqual(refreshed, { v: 'two' })
    assert.notEqual(refreshed, first)
    assert.equal(await m.secrets(), refreshed, 'the refreshed object is now the cached one')
    assert.equal(await m.get('v'), 'two')
    assert.equal(m.stats().version_id, v2)
    assert.equal(await h.getCount(name), 2)
  })

  test('a refetch of the same VersionId keeps the same object', async () => {
    const name = h.unique('samever')
    await h.createSecret(name, { v: 'same' })
    const m = open(name, { ttl: 0.2 })
    const first = await m.secrets()
    await h.sleep(300)
    assert.equal(await m.secrets(), first)
    assert.equal(await m.refresh(), first)
    m.invalidate() // forgets the value: what is fetched next is a new object
    assert.deepEqual(await m.secrets(), first)
    assert.equal(await h.getCount(name), 4)
  })

  test('invalidate() makes the next access fetch', async () => {
    const name = h.unique('invalidate')
    await h.createSecret(name, { v: 1 })
    const m = open(name)
    await m.get('v')
    await m.get('v')
    assert.equal(await h.getCount(name), 1)
    assert.equal(m.invalidate(), undefined)
    await m.get('v')
    assert.equal(await h.getCount(name), 2)
  })

  test('stats() reports the counters with the cross-language field names', async () => {
    const name = h.unique('stats')
    const versionId = await h.createSecret(name, { v: 1 })
    const m = open(name)
    assert.deepEqual(m.stats(), {
      hits: 0,
      misses: 0,
      fetches: 0,
      failures: 0,
      stale_served: 0,
      refreshes_ahead: 0,
      last_refresh: null,
      version_id: null,
      last_error: null,
      testing_overrides: 0,
      region: null,
      failovers: 0,
      hedges: 0,
      older_replica_answers: 0,
      restores: 0,
    })
    await m.get('v')
    await m.get('v')
    m.cached('v')
    const s = m.stats()
    assert.equal(s.fetches, 1)
    assert.equal(s.misses, 1)
    assert.equal(s.hits, 2)
    assert.equal(s.version_id, versionId)
    assert.ok(Math.abs(s.last_refresh - Date.now() / 1000) < 30, `${s.last_refresh}`)
  })

  test('secretBinary() resolves to a Buffer, the same one while unchanged', async () => {
    const name = h.unique('binary')
    const bytes = Buffer.from([0, 159, 146, 150, 255, 1])
    await h.createBinarySecret(name, bytes)
    const m = open(name)
    const buf = await m.secretBinary()
    assert.ok(Buffer.isBuffer(buf))
    assert.deepEqual(buf, bytes)
    assert.equal(await m.secretBinary(), buf)
    const e = await rejectsWith(m.secrets(), 'SECRET_FORMAT')
    assert.match(e.message, /SecretBinary/)
    await rejectsWith(m.get('x'), 'SECRET_FORMAT')
    assert.deepEqual(await m.refresh(), bytes)
    const json = h.unique('notbinary')
    await h.createSecret(json, { v: 1 })
    await rejectsWith(open(json).secretBinary(), 'SECRET_FORMAT')
  })

  test('an empty document is a valid, cached value', async () => {
    const name = h.unique('empty')
    await h.createSecret(name, {})
    const m = open(name)
    for (let i = 0; i < 3; i++) assert.deepEqual(await m.secrets(), {})
    assert.equal(await h.getCount(name), 1)
    assert.deepEqual(m.cached(), {})
  })

  test('a key named __proto__ is a plain key, as with JSON.parse', async () => {
    const name = h.unique('proto')
    await h.createSecret(name, '{"__proto__": {"polluted": "yes"}, "a": 1}')
    const doc = await open(name).secrets()
    assert.equal(Object.getPrototypeOf(doc), Object.prototype)
    assert.equal(doc.polluted, undefined)
    assert.deepEqual(Object.keys(doc).sort(), ['__proto__', 'a'])
    assert.deepEqual(doc.__proto__, { polluted: 'yes' }) // eslint-disable-line no-proto
    assert.equal({}.polluted, undefined)
  })

  test('core decides every key path (inherited names, arrays, the __proto__ key); objects are those of secrets()', async () => {
    const name = h.unique('keypaths')
    await h.createSecret(name, '{"__proto__": {"k": "v"}, "list": [{"x": 1}], "o": {"p": {}}}')
    const m = open(name)
    const doc = await m.secrets()
    assert.equal(await m.get('__proto__', 'k'), 'v')
    assert.equal(m.cached('__proto__', 'k'), 'v')
    for (const p of [['toString'], ['o', 'constructor'], ['list', '0'], ['list', 'length']]) {
      await rejectsWith(m.get(...p), 'KEY_NOT_FOUND')
      assert.throws(() => m.cached(...p), (e) => e.code === 'KEY_NOT_FOUND' || e.code === 'SECRET_FORMAT', p.join('.'))
    }
    assert.equal(await m.get('o', 'p'), doc.o.p)
    assert.equal(m.cached('o.p'), doc.o.p)
    assert.equal(m.cached('list'), doc.list)
  })
})

describe('locating the secret', () => {
  test('version stages and version ids', async () => {
    const name = h.unique('stages')
    const v1 = await h.createSecret(name, { v: 'one' })
    const v2 = await h.putSecret(name, { v: 'two' })
    await h.moto('UpdateSecretVersionStage', { SecretId: name, VersionStage: 'CANARY', MoveToVersionId: v1 })
    assert.equal(await open(name).get('v'), 'two')
    assert.equal(await open(name, { versionStage: 'AWSPREVIOUS' }).get('v'), 'one')
    assert.equal(await open(name, { versionStage: 'CANARY' }).get('v'), 'one')
    assert.equal(await open(name, { versionId: v2 }).get('v'), 'two')
    await rejectsWith(open(name, { versionStage: 'NOPE' }).get('v'), 'SECRET_NOT_FOUND')
    await rejectsWith(open(name, { versionStage: 'AWSCURRENT', versionId: v1 }).get('v'), 'INVALID_ARGUMENT')
  })

  test('config: a file, a directory (merged in name order) or inline YAML', async () => {
    const name = h.unique('config')
    await h.createSecret(name, { v: 'configured' })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'starfleet-node-'))
    try {
      fs.writeFileSync(path.join(dir, '00-base.yaml'), 'STARFLEET:\n  SecretsManager:\n    SecretId: Wrong\n    SecretRegion: eu-west-1\n')
      fs.writeFileSync(
        path.join(dir, '10-override.yml'),
        `STARFLEET:\n  SecretsManager:\n    SecretId: ${name}\n    SecretRegion: ${h.REGION}\n`,
      )
      assert.equal(await new SecretsManager({ config: dir }).get('v'), 'configured')
      assert.equal(await new SecretsManager({ config: path.join(dir, '10-override.yml') }).get('v'), 'configured')
      const yaml = `STARFLEET:\n  SecretsManager:\n    SecretId: ${name}\n    SecretRegion: ${h.REGION}\n`
      assert.equal(await new SecretsManager({ config: { yaml, name: 'inline.yaml' } }).get('v'), 'configured')
      // Arguments win over the configuration.
      assert.equal(await new SecretsManager({ config: path.join(dir, '00-base.yaml'), secretId: name, region: h.REGION }).get('v'), 'configured')
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('config: a parsed Starfleet configuration object or a function, consulted at each load', async () => {
    const [a, b] = [h.unique('host-a'), h.unique('host-b')]
    await h.createSecret(a, { v: 'a' })
    await h.createSecret(b, { v: 'b' })
    // The host's live configuration, as Starfleet keeps it (SlackEnabled as in Starfleet's).
    const live = { STARFLEET: { SlackEnabled: true, SecretsManager: { SecretId: a, SecretRegion: h.REGION } }, Other: { x: 1 } }
    const fromObject = new SecretsManager({ config: live, ttl: 'never' })
    assert.equal(await fromObject.get('v'), 'a')
    let consulted = 0
    const fromFunction = new SecretsManager({
      config: () => {
        consulted += 1
        return live
      },
      ttl: 'never',
    })
    assert.equal(await fromFunction.get('v'), 'a')
    assert.equal(await fromFunction.get('v'), 'a')
    assert.equal(fromFunction.cached('v'), 'a')
    assert.equal(consulted, 1, 'a hit does not consult the configuration')
    // The host changes its configuration: the next load follows, a hit does not.
    live.STARFLEET.SecretsManager.SecretId = b
    assert.equal(await fromFunction.get('v'), 'a', 'still cached (ttl never)')
    fromFunction.invalidate()
    assert.equal(await fromFunction.get('v'), 'b')
    assert.equal(consulted, 2)
    assert.equal((await fromObject.refresh()).v, 'b', 'refresh() reads the object again')
    assert.equal(await fromObject.get('v'), 'b')
    // Popping the stanza is CONFIG_MISSING (even with SlackEnabled), and nothing for the old
    // location is served.
    delete live.STARFLEET.SecretsManager
    fromObject.invalidate()
    const missing = await rejectsWith(fromObject.get('v'), 'CONFIG_MISSING')
    assert.match(missing.message, /STARFLEET\.SecretsManager/)
    await rejectsWith(fromObject.secrets(), 'CONFIG_MISSING')
    // Wrong values: core's rules, naming the key path.
    live.STARFLEET.SecretsManager = { SecretId: a, SecretRegion: 'Ohio' }
    const invalid = await rejectsWith(fromObject.refresh(), 'CONFIG_INVALID')
    assert.match(invalid.message, /STARFLEET\.SecretsManager\.SecretRegion/)
    // A function may return any form: a path, inline YAML; its exceptions reject unchanged.
    const yaml = `STARFLEET:\n  SecretsManager:\n    SecretId: ${a}\n    SecretRegion: ${h.REGION}\n`
    assert.equal(await new SecretsManager({ config: () => ({ yaml }) }).get('v'), 'a')
    const boom = new Error('host failure')
    await assert.rejects(new SecretsManager({ config: () => { throw boom } }).get('v'), (e) => e === boom)
    await rejectsWith(new SecretsManager({ config: () => 42 }).get('v'), 'INVALID_ARGUMENT')
  })

  test('SECRETS_MANAGER locates the secret from the environment and STARFLEET_CONFIG', async () => {
    const name = h.unique('singleton')
    await h.createSecret(name, starfleetDoc('xoxb-singleton'))
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'starfleet-node-'))
    try {
      fs.writeFileSync(path.join(dir, 'starfleet.yaml'), `STARFLEET:\n  SecretsManager:\n    SecretId: ${name}\n    SecretRegion: ${h.REGION}\n`)
      const code = `
        const { SECRETS_MANAGER } = require('starfleet-secrets')
        SECRETS_MANAGER.get('STARFLEET', 'SlackToken').then((v) => console.log(v))`
      const fromConfig = await h.runNode(['-e', code], { env: { STARFLEET_CONFIG: dir, STARFLEET_SECRET_ID: undefined } })
      assert.equal(fromConfig.code, 0, fromConfig.stderr)
      assert.equal(fromConfig.stdout.trim(), 'xoxb-singleton')
      const fromEnv = await h.runNode(['-e', code], {
        env: { STARFLEET_CONFIG: undefined, STARFLEET_SECRET_ID: name, STARFLEET_SECRET_REGION: h.REGION },
      })
      assert.equal(fromEnv.code, 0, fromEnv.stderr)
      assert.equal(fromEnv.stdout.trim(), 'xoxb-singleton')
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('SECRETS_MANAGER.configure() points the singleton at a secret and starts a fresh cache', async () => {
    const a = h.unique('configure-a')
    const b = h.unique('configure-b')
    await h.createSecret(a, { v: 'a' })
    await h.createSecret(b, { v: 'b' })
    await rejectsWith(SECRETS_MANAGER.get('v'), 'CONFIG_MISSING')
    assert.equal(SECRETS_MANAGER.configure({ secretId: a, region: h.REGION, ttl: 'never' }), undefined)
    assert.equal(await SECRETS_MANAGER.get('v'), 'a')
    assert.equal(SECRETS_MANAGER.cached('v'), 'a')
    SECRETS_MANAGER.configure({ secretId: b, region: h.REGION })
    assert.equal(SECRETS_MANAGER.cached('v'), undefined)
    assert.equal(SECRETS_MANAGER.stats().fetches, 0)
    assert.equal(await SECRETS_MANAGER.get('v'), 'b')
    assert.throws(() => SECRETS_MANAGER.configure({ ttl: -1 }), (e) => e.code === 'INVALID_ARGUMENT')
    assert.equal(await SECRETS_MANAGER.get('v'), 'b', 'a rejected configure() leaves the manager as it was')
    SECRETS_MANAGER.configure()
  })
})

describe('options', () => {
  test('are checked: unknown names and wrong types are INVALID_ARGUMENT', () => {
    const bad = [
      'not an object',
      [1],
      { secretID: 'typo' },
      { secretId: 5 },
      { ttl: {} },
      { ttl: -1 },
      { ttl: 'soon' },
      { maxStale: '5' },
      { timeout: -2 },
      { config: ['x'] },
      { config: new Map([['STARFLEET', {}]]) },
      { config: 5 },
      { versionStage: true },
    ]
    for (const options of bad) {
      assert.throws(
        () => new SecretsManager(options),
        (e) => e instanceof StarfleetSecretsError && e.code === 'INVALID_ARGUMENT',
        JSON.stringify(options),
      )
    }
  })

  test('errors name the option as the caller spelled it (core checks the object passed through)', () => {
    assert.throws(
      () => new SecretsManager({ secretID: 'typo' }),
      (e) => /unknown option "secretID"; the options are secretId, region, .*fallbackRegions/.test(e.message),
    )
    assert.throws(() => new SecretsManager({ maxStale: '5' }), (e) => /option maxStale must be a number of seconds, got string/.test(e.message))
    assert.throws(() => new SecretsManager({ versionStage: true }), (e) => /option versionStage must be a string, got boolean/.test(e.message))
  })

  test('ttl accepts seconds, numeric strings, "never" and 0', () => {
    for (const ttl of [0, 1.5, 300, '0', '300', 'never', 'NEVER']) new SecretsManager({ ttl })
    new SecretsManager({ secretId: 'x', region: 'us-east-2', maxStale: 0, timeout: 2.5, endpointUrl: 'http://127.0.0.1:1' })
    new SecretsManager({ secretId: undefined, region: null })
  })

  test('fallbackRegions is an array of region names, checked like the region', async () => {
    assert.throws(() => new SecretsManager({ fallbackRegions: 'us-west-2' }), (e) => e.code === 'INVALID_ARGUMENT')
    assert.throws(() => new SecretsManager({ fallbackRegions: [7] }), (e) => e.code === 'INVALID_ARGUMENT')
    const m = new SecretsManager({ secretId: 'x', region: h.REGION, fallbackRegions: ['us-west-2', 'Oregon'] })
    await assert.rejects(m.get('x'), (e) => e.code === 'CONFIG_INVALID' && /fallback_regions.*Oregon/.test(e.message))
  })

  test('an empty secret id is CONFIG_INVALID', async () => {
    await rejectsWith(new SecretsManager({ secretId: ' ', region: h.REGION }).get('x'), 'CONFIG_INVALID')
  })
})

describe('testing helpers', () => {
  test('pin() serves a value without any call until unpin()', async () => {
    const name = h.unique('pinned')
    await h.createSecret(name, { v: 'real' })
    const m = open(name)
    m.pin({ v: 'pinned', nested: { k: 1 } })
    assert.equal(await m.get('v'), 'pinned')
    assert.equal(m.cached('nested.k'), 1)
    assert.equal(await h.getCount(name), 0)
    m.unpin()
    assert.equal(await m.get('v'), 'real')
    m.pin(Buffer.from('bytes'))
    assert.deepEqual(await m.secretBinary(), Buffer.from('bytes'))
    assert.throws(() => m.pin('text'), (e) => e.code === 'INVALID_ARGUMENT')
    assert.throws(() => m.pin([1]), (e) => e.code === 'INVALID_ARGUMENT')
    // A pinned manager needs no location at all.
    const unlocated = new SecretsManager()
    unlocated.pin({ STARFLEET: { SlackToken: 't' } })
    assert.equal(await unlocated.get('STARFLEET.SlackToken'), 't')
  })

  test('a pin() survives configure(), as Python\'s overrides do (core\'s reconfigure decides), and its token still undoes it', async () => {
    const name = h.unique('pin-configure')
    await h.createSecret(name, { v: 'real' })
    const m = new SecretsManager()
    const token = m.pin({ v: 'pinned' })
    m.configure({ secretId: name, region: h.REGION })
    assert.equal(await m.get('v'), 'pinned')
    assert.equal(m.stats().testing_overrides, 1)
    assert.equal(await h.getCount(name), 0)
    m.unpin(token)
    assert.equal(await m.get('v'), 'real')
  })

  test('pins nest, are labelled, and are undone innermost first (core\'s override stack)', async () => {
    const name = h.unique('pinstack')
    await h.createSecret(name, { v: 'real' })
    const m = open(name)
    assert.equal(await m.get('v'), 'real')
    const outer = m.pin({ v: 'outer' })
    const inner = m.pin(Buffer.from('inner'))
    assert.equal(m.stats().testing_overrides, 2)
    assert.match(util.inspect(m), /testingOverrides: 2/)
    assert.match((await rejectsWith(m.secrets(), 'SECRET_FORMAT')).message, /\(testing override\)/)
    assert.throws(() => m.unpin(outer), (e) => e.code === 'INVALID_ARGUMENT' && /innermost first/.test(e.message))
    assert.deepEqual(await m.secretBinary(), Buffer.from('inner'), 'a refused unpin changes nothing')
    m.unpin(inner)
    assert.equal(await m.get('v'), 'outer')
    m.unpin()
    assert.equal(await m.get('v'), 'real')
    assert.equal(await h.getCount(name), 1, 'the cached value came back, no call made')
    assert.doesNotMatch(util.inspect(m), /testingOverrides/)
    assert.throws(() => m.unpin(), (e) => e.code === 'INVALID_ARGUMENT' && /no such testing override/.test(e.message))
    assert.throws(() => m.unpin(outer), (e) => e.code === 'INVALID_ARGUMENT')
    assert.throws(() => m.unpin('x'), (e) => e.code === 'INVALID_ARGUMENT')
  })
})

describe('module', () => {
  test('exports the contract names', () => {
    assert.ok(SECRETS_MANAGER instanceof SecretsManager)
    assert.ok(StarfleetSecretsError.prototype instanceof Error)
    assert.equal(codes.SECRET_NOT_FOUND, 'SECRET_NOT_FOUND')
    assert.equal(Object.keys(codes).length, 14)
    // Built at first use (index.js): still one frozen object, whoever asks.
    assert.ok(Object.isFrozen(codes))
    assert.equal(require('..').codes, codes)
    assert.match(coreVersion, /^\d+\.\d+\.\d+/)
    const e = new StarfleetSecretsError('TIMEOUT', 'x')
    assert.equal(e.name, 'StarfleetSecretsError')
    assert.equal(e.number, 8)
  })

  test('require() and import both work, and give the same singleton', async () => {
    const code = `
      import def, { SECRETS_MANAGER, SecretsManager, StarfleetSecretsError, codes } from 'starfleet-secrets'
      import { createRequire } from 'node:module'
      const cjs = createRequire(import.meta.url)('starfleet-secrets')
      console.log([
        SECRETS_MANAGER === cjs.SECRETS_MANAGER,
        SecretsManager === cjs.SecretsManager,
        StarfleetSecretsError === cjs.StarfleetSecretsError,
        def === cjs,
        codes.TIMEOUT,
      ].join(' '))`
    const r = await h.runNode(['--input-type=module', '-e', code])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'true true true true TIMEOUT')
  })

  test('util.inspect and JSON.stringify of a manager show its location, not its value', async () => {
    const name = h.unique('inspect')
    await h.createSecret(name, starfleetDoc('xoxb-inspect-value'))
    const m = open(name)
    await m.secrets()
    const views = [util.inspect(m), util.inspect(m, { showHidden: true, depth: Infinity }), JSON.stringify(m), String(m)]
    for (const view of views) assert.ok(!view.includes('xoxb-inspect-value'), view)
    assert.match(views[0], new RegExp(name))
    assert.equal(JSON.parse(views[2]).secretId, name)
    assert.equal(JSON.parse(views[2]).cachedVersionId, m.stats().version_id)
    // Every setting, as core's Settings::to_json names it (Python's settings() shows the same).
    const shown = JSON.parse(views[2])
    assert.equal(shown.versionStage, 'AWSCURRENT')
    for (const key of ['ttl', 'maxStale', 'timeout', 'refreshAhead', 'expiryJitter', 'fallbackRegions', 'source']) {
      assert.ok(key in shown, `${key} in ${views[2]}`)
    }
  })
})
