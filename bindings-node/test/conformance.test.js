'use strict'
// The cross-language conformance vectors (tests/vectors, format in its README) through the
// public Node API, against the harness. The Rust, Python and Go/C suites run the same files,
// so the front doors cannot drift apart. One test per vector file (`group/stem`): adding a
// vector needs no change here.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { after, describe, test } = require('node:test')

const { SecretsManager, StarfleetSecretsError } = require('..')
const h = require('./helpers')

const VECTORS = path.resolve(__dirname, '../../tests/vectors')
const READ_GROUPS = ['config', 'precedence', 'documents', 'paths', 'stages', 'mounted']
/** The managed variables, unset before every vector (tests/vectors/README.md, step 4). */
const MANAGED = JSON.parse(fs.readFileSync(path.join(VECTORS, 'managed-env.json'), 'utf8')).variables
/** No step may hang: every whole vector is bounded. */
const VECTOR_TIMEOUT_MS = 30000

/** Every vector file of `groups`, as { id: 'group/stem', file }, in a stable order. */
function vectors(groups) {
  return groups.flatMap((group) =>
    fs
      .readdirSync(path.join(VECTORS, group))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({ id: `${group}/${path.basename(f, '.json')}`, file: path.join(VECTORS, group, f) })),
  )
}

/** Create the vector's secret through the harness; the VersionIds in order. */
async function createSecret(spec, name) {
  const [first, ...later] = spec.versions || [spec]
  // Replicas (`regions`): moto keeps a copy in each region, as Secrets Manager does.
  const replicas = spec.regions ? { AddReplicaRegions: spec.regions.map((r) => ({ Region: r })) } : {}
  const created = await h.harnessCall('CreateSecret', { Name: name, ...replicas, ...payload(first) })
  // Lagging replicas: a copy of the first version (same name, same VersionId) that later
  // versions never reach.
  for (const region of spec.lagging_regions || []) {
    await h.harnessCall('CreateSecret', { Name: name, ClientRequestToken: created.VersionId, ...payload(first) }, region)
  }
  const ids = [created.VersionId]
  for (const version of later) ids.push(await putVersion(version, name))
  return { ids, arn: created.ARN }
}

function payload(v) {
  if ('json' in v) return { SecretString: JSON.stringify(v.json) }
  if ('string' in v) return { SecretString: v.string }
  if ('binary_base64' in v) return { SecretBinary: v.binary_base64 }
  return {}
}

/** `PutSecretValue` of one version spec (stages default to AWSCURRENT); its VersionId. */
async function putVersion(version, name) {
  const params = { SecretId: name, VersionStages: version.stages || ['AWSCURRENT'], ...payload(version) }
  return (await h.harnessCall('PutSecretValue', params)).VersionId
}

/** A `changes` step's `$version:N` as the VersionId it names (versions put by steps included). */
function versionRef(v, versions) {
  const m = typeof v === 'string' ? /^\$version:(\d+)$/.exec(v) : null
  return m && Number(m[1]) < versions.length ? versions[Number(m[1])] : v
}

/** Wait (up to 3 s: calls are queued to this thread) until `seen` has as many changes as `want`, then compare. */
async function checkChanges(want, seen, versions, at) {
  const expected = want.map(([oldVersion, newVersion]) => [versionRef(oldVersion, versions), versionRef(newVersion, versions)])
  const deadline = Date.now() + 3000
  while (seen.length < expected.length && Date.now() < deadline) await h.sleep(10)
  assert.deepStrictEqual(seen, expected, `${at}: changes`)
}

/** `http://127.0.0.1:P` for a port that was just bound and closed. */
function closedEndpoint() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(`http://127.0.0.1:${port}`))
    })
  })
}

/** Replace `$secret`, `$arn`, `$version:N`, `$closed_endpoint` and `$mounted` in every string of `v`. */
function substitute(v, vars) {
  if (typeof v === 'string') {
    return v
      // A version a later put_secret_value step makes is resolved when its step runs.
      .replace(/\$version:(\d+)/g, (ref, n) => vars[`$version:${n}`] ?? ref)
      .replaceAll('$secret', vars.$secret)
      .replaceAll('$arn', vars.$arn)
      .replaceAll('$closed_endpoint', vars.$closed_endpoint)
      .replaceAll('$mounted', vars.$mounted)
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, vars))
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, vars)]))
  }
  return v
}

/** Write the vector's config under `scratch`; its path. */
function writeConfig(config, scratch) {
  if ('file' in config) {
    const file = path.join(scratch, 'starfleet.yaml')
    fs.writeFileSync(file, config.file)
    return file
  }
  if ('files' in config) {
    const dir = path.join(scratch, 'config.d')
    fs.mkdirSync(dir)
    for (const [name, text] of Object.entries(config.files)) fs.writeFileSync(path.join(dir, name), text)
    return dir
  }
  return path.join(scratch, 'does-not-exist.yaml')
}

/** Write the vector's `mounted` files (names may hold `/`) into `dir` (`$mounted`). */
function writeMounted(files, dir) {
  fs.mkdirSync(dir, { recursive: true })
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, text)
  }
}

/** `secret_id` -> `secretId`, and so on: the Node spelling of a vector argument. */
const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

/**
 * Secret, placeholders, config and environment for one vector; { name, vector, manager,
 * cleanup }. The native code reads the real environment, which `process.env` writes update.
 */
async function prepare({ id, file }) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'))
  const name = h.unique(`vec-${id.replace('/', '-')}`)
  const vars = { $secret: name, $arn: '', $closed_endpoint: await closedEndpoint() }
  const { ids: versions, arn } = raw.secret ? await createSecret(raw.secret, name) : { ids: [], arn: '' }
  vars.$arn = arn
  for (const [i, versionId] of versions.entries()) vars[`$version:${i}`] = versionId
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'starfleet-vector-'))
  vars.$mounted = path.join(scratch, 'mounted')
  const vector = substitute(raw, vars)
  if (vector.mounted) writeMounted(vector.mounted, vars.$mounted)
  const savedEnv = { ...process.env }
  const cleanup = () => {
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k]
    Object.assign(process.env, savedEnv)
    fs.rmSync(scratch, { recursive: true, force: true })
  }
  try {
    for (const k of MANAGED) delete process.env[k]
    const env = { ...vector.env }
    let config = vector.config ? writeConfig(vector.config, scratch) : undefined
    if (config !== undefined && vector.config_via === 'env') {
      env.STARFLEET_CONFIG = config
      config = undefined
    }
    for (const [k, v] of Object.entries(env)) {
      if (v === null) delete process.env[k]
      else process.env[k] = v
    }
    const options = Object.fromEntries(Object.entries(vector.args || {}).map(([k, v]) => [camel(k), v]))
    if (config !== undefined) options.config = config
    return { name, versions, vector, manager: new SecretsManager(options), cleanup }
  } catch (e) {
    cleanup()
    throw e
  }
}

/** One read through the public API, as JSON. */
async function read(m, spec) {
  const keys = typeof spec.path === 'string' ? [spec.path] : spec.path || []
  switch (spec.as) {
    case 'string':
      return m.getString(...keys)
    case 'json':
      return m.get(...keys)
    case 'document':
      return m.secrets()
    case 'binary':
      return { base64: (await m.secretBinary()).toString('base64') }
    default:
      throw new Error(`unknown read kind ${spec.as}`)
  }
}

async function check(expect, m, spec) {
  let got
  try {
    got = await read(m, spec)
  } catch (e) {
    if (!(e instanceof StarfleetSecretsError)) throw e
    assert.ok('error' in expect, `expected a value, got ${e.code}: ${e.message}`)
    assert.equal(e.code, expect.error, `expected ${expect.error}, got ${e.code}: ${e.message}`)
    for (const part of expect.message_contains || []) {
      assert.ok(e.message.includes(part), `message lacks ${JSON.stringify(part)}: ${e.message}`)
    }
    for (const part of expect.message_excludes || []) {
      assert.ok(!e.message.includes(part), `message contains ${JSON.stringify(part)}: ${e.message}`)
    }
    return
  }
  assert.ok('value' in expect, `expected ${expect.error}, got a value`)
  assert.deepStrictEqual(got, expect.value, 'wrong value')
}

/** The fault steps of a vector, all against one manager. */
async function runSteps(name, versions, vector, m) {
  const seen = []
  m.onChange((oldVersion, newVersion) => seen.push([oldVersion, newVersion]))
  for (const [i, step] of vector.steps.entries()) {
    const at = `step ${i}`
    if ('fault' in step) {
      await h.control('POST', 'faults', { secret_id: name, ...step.fault })
    } else if ('read' in step) {
      const started = performance.now()
      await check(step.expect, m, step.read)
      const ms = performance.now() - started
      if (step.within_ms !== undefined) assert.ok(ms <= step.within_ms, `${at}: ${ms.toFixed(0)} ms > ${step.within_ms} ms`)
    } else if ('sleep_ms' in step) {
      await h.sleep(step.sleep_ms)
    } else if ('put_secret_value' in step) {
      versions.push(await putVersion(step.put_secret_value, name))
    } else if ('configure' in step) {
      m.configure(Object.fromEntries(Object.entries(step.configure).map(([k, v]) => [camel(k), v])))
    } else if ('changes' in step) {
      await checkChanges(step.changes, seen, versions, at)
    } else if (step.delete_secret) {
      await h.harnessCall('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true })
    } else if ('stats' in step) {
      // Node's stats() uses the vectors' snake_case names (the same in every language).
      const stats = m.stats()
      for (const [key, want] of Object.entries(step.stats)) {
        if (key.endsWith('_min')) {
          const k = key.slice(0, -4)
          assert.ok(stats[k] >= want, `${at}: ${k} = ${stats[k]} < ${want}`)
        } else {
          assert.deepStrictEqual(stats[key], want, `${at}: ${key} = ${stats[key]} != ${want}`)
        }
      }
    } else {
      throw new Error(`${at}: unknown step ${JSON.stringify(step)}`)
    }
  }
}

const passed = { read: 0, fault: 0 }
after(() => console.log(`conformance: ${passed.read} read vectors, ${passed.fault} fault vectors passed`))

describe('read vectors', () => {
  for (const v of vectors(READ_GROUPS)) {
    test(v.id, { timeout: VECTOR_TIMEOUT_MS }, async () => {
      const { vector, manager, cleanup } = await prepare(v)
      try {
        await check(vector.expect, manager, vector.read)
      } finally {
        cleanup()
      }
      passed.read += 1
    })
  }
})

describe('fault vectors', () => {
  for (const v of vectors(['faults'])) {
    test(v.id, { timeout: VECTOR_TIMEOUT_MS }, async () => {
      const { name, versions, vector, manager, cleanup } = await prepare(v)
      try {
        await runSteps(name, versions, vector, manager)
      } finally {
        await h.clearFaults(name)
        cleanup()
      }
      passed.fault += 1
    })
  }
})
