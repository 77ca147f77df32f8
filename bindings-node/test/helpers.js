'use strict'
// Test support: the local Secrets Manager harness started by `scripts/with-harness`.
//
// STARFLEET_TEST_MOTO is moto itself (secrets are set up there directly, with its awsJson1.1
// API; moto does not check signatures) and STARFLEET_TEST_PROXY the fault proxy in front of it,
// which the library reaches through AWS_ENDPOINT_URL_SECRETS_MANAGER. Faults and request
// counts are scoped per secret id, so test files run in parallel on one harness, each test
// with its own secret.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const REGION = 'us-east-2'
const PACKAGE_DIR = path.resolve(__dirname, '..')

let consumerDir
/**
 * A folder whose node_modules/starfleet-secrets is this package (a symlink, as `npm link` makes):
 * child processes run there require and import the package by name, as a user's code does.
 * The package has no `exports` field (index.js says why), so it cannot import itself by name
 * from its own folder. Made once per test file's process, removed at its exit.
 */
function consumerFolder() {
  if (consumerDir === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'starfleet-node-consumer-'))
    fs.mkdirSync(path.join(dir, 'node_modules'))
    fs.symlinkSync(PACKAGE_DIR, path.join(dir, 'node_modules', 'starfleet-secrets'), 'dir')
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
    consumerDir = dir
  }
  return consumerDir
}

function env(name) {
  const value = process.env[name]
  if (!value) {
    throw new Error(`${name} is not set: run the suite through scripts/with-harness (see scripts/test-node)`)
  }
  return value
}

const MOTO = () => env('STARFLEET_TEST_MOTO')
const PROXY = () => env('STARFLEET_TEST_PROXY')

let counter = 0
/** A secret name no other test (or earlier run on the same harness) uses. */
function unique(prefix) {
  counter += 1
  return `node-${prefix}-${process.pid}-${Date.now()}-${counter}`
}

/** One Secrets Manager API call straight to moto (not counted, never faulted). */
async function moto(operation, params, region = REGION) {
  const response = await fetch(MOTO(), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `secretsmanager.${operation}`,
      Authorization:
        `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/secretsmanager/aws4_request, ` +
        'SignedHeaders=host;x-amz-target, Signature=0',
    },
    body: JSON.stringify(params),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`moto ${operation}: HTTP ${response.status}: ${text}`)
  return text ? JSON.parse(text) : {}
}

/** Create a secret with a SecretString (a document is JSON-encoded); returns its VersionId. */
async function createSecret(name, value, region = REGION) {
  const SecretString = typeof value === 'string' ? value : JSON.stringify(value)
  return (await moto('CreateSecret', { Name: name, SecretString }, region)).VersionId
}

async function createBinarySecret(name, bytes, region = REGION) {
  const SecretBinary = Buffer.from(bytes).toString('base64')
  return (await moto('CreateSecret', { Name: name, SecretBinary }, region)).VersionId
}

/** A new AWSCURRENT version; returns its VersionId. */
async function putSecret(name, value, region = REGION) {
  const SecretString = typeof value === 'string' ? value : JSON.stringify(value)
  return (await moto('PutSecretValue', { SecretId: name, SecretString }, region)).VersionId
}

async function deleteSecret(name, region = REGION) {
  await moto('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true }, region)
}

async function control(method, route, body) {
  const response = await fetch(`${PROXY()}/__harness/${route}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  const reply = await response.json()
  if (!response.ok) throw new Error(`harness ${method} ${route}: ${JSON.stringify(reply)}`)
  return reply
}

/**
 * One Secrets Manager call made by the harness straight to moto (`POST /__harness/call`, see
 * tests/harness/README.md): the language-neutral setup the conformance vectors use. Returns
 * moto's JSON body; throws unless moto answered 200.
 */
async function harnessCall(operation, params, region = REGION) {
  const reply = await control('POST', 'call', { operation, region, params })
  if (reply.status !== 200) throw new Error(`harness call ${operation}: ${JSON.stringify(reply)}`)
  return reply.body
}

/** Add a fault rule for `secretId` (see tests/harness/README.md); `times` 0 = unlimited. */
function fault(secretId, action, extra = {}, times = 1) {
  return control('POST', 'faults', { secret_id: secretId, action, times, ...extra })
}

function clearFaults(secretId) {
  return control('DELETE', `faults?secret_id=${encodeURIComponent(secretId)}`)
}

/** GetSecretValue requests the proxy has seen for `secretId`. */
async function getCount(secretId) {
  const counts = await control('GET', `counts?secret_id=${encodeURIComponent(secretId)}`)
  return counts.GetSecretValue || 0
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Run `node` with `args` (e.g. ['-e', code]) and the given environment changes (a value of
 * undefined removes the variable). Resolves to { code, signal, stdout, stderr, ms }; kills the
 * child and rejects after `timeoutMs`. Runs in the consumer folder (`consumerFolder`) unless
 * `cwd` says otherwise.
 */
function runNode(args, { env: changes = {}, timeoutMs = 30000, cwd = consumerFolder() } = {}) {
  const childEnv = { ...process.env }
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete childEnv[k]
    else childEnv[k] = v
  }
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, args, { env: childEnv, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node ${args.join(' ').slice(0, 80)} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 })
    })
  })
}

/** Resolve with the outcome of `promise`, or reject if it is still pending after `ms`. */
function settlesWithin(promise, ms, what = 'promise') {
  let timer
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms)
  })
  return Promise.race([Promise.allSettled([promise]).then(([r]) => r), deadline]).finally(() => clearTimeout(timer))
}

module.exports = {
  REGION,
  PACKAGE_DIR,
  consumerFolder,
  MOTO,
  PROXY,
  unique,
  moto,
  createSecret,
  createBinarySecret,
  putSecret,
  deleteSecret,
  control,
  harnessCall,
  fault,
  clearFaults,
  getCount,
  sleep,
  runNode,
  settlesWithin,
}
