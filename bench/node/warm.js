'use strict'
// Cached access: ns/op of reads answered from a warm cache, in one process. Prints one JSON
// line. Run by bench.js inside the harness, with STARFLEET_SECRET_ID/REGION and AWS_REGION set.

const { SECRETS_MANAGER } = require(process.env.BENCH_STARFLEET_PKG)
const { getSecret } = require('@aws-lambda-powertools/parameters/secrets')
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager')

const BATCHES = 7

/** Median ns/op over BATCHES batches of `n` calls of `fn` (sync). */
function syncNs(n, fn) {
  const samples = []
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn()
    samples.push(Number(process.hrtime.bigint() - t0) / n)
  }
  return median(samples)
}

/** Median ns/op over BATCHES batches of `n` sequential awaits of `fn`. */
async function asyncNs(n, fn) {
  const samples = []
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await fn()
    samples.push(Number(process.hrtime.bigint() - t0) / n)
  }
  return median(samples)
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function main() {
  const id = process.env.STARFLEET_SECRET_ID
  const expected = await SECRETS_MANAGER.get('STARFLEET', 'SlackToken') // warm the cache
  let sink = 0
  const check = (v) => {
    if (v !== expected) throw new Error('wrong value')
    sink += 1
  }
  // Let the JIT settle before measuring.
  for (let i = 0; i < 200000; i++) check(SECRETS_MANAGER.cached('STARFLEET', 'SlackToken'))
  for (let i = 0; i < 50000; i++) check(await SECRETS_MANAGER.get('STARFLEET', 'SlackToken'))

  const result = {
    cached: syncNs(200000, () => check(SECRETS_MANAGER.cached('STARFLEET', 'SlackToken'))),
    cachedDotted: syncNs(200000, () => check(SECRETS_MANAGER.cached('STARFLEET.SlackToken'))),
    get: await asyncNs(50000, async () => check(await SECRETS_MANAGER.get('STARFLEET', 'SlackToken'))),
    secrets: await asyncNs(50000, async () => check((await SECRETS_MANAGER.secrets()).STARFLEET.SlackToken)),
  }
  const fetches = SECRETS_MANAGER.stats().fetches

  // References: Powertools' own cache (default maxAge 5 s; the loop stays well inside it) and
  // the plain SDK, which has no cache (each read is a call to the local server).
  const pt = async () => check((await getSecret(id, { transform: 'json' })).STARFLEET.SlackToken)
  for (let i = 0; i < 20000; i++) await pt()
  result.powertoolsCached = await asyncNs(20000, pt)
  const client = new SecretsManagerClient({ region: process.env.STARFLEET_SECRET_REGION })
  const sdk = async () =>
    check(JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString).STARFLEET.SlackToken)
  for (let i = 0; i < 20; i++) await sdk()
  result.sdkUncached = await asyncNs(30, sdk)
  result.starfleetFetches = fetches
  result.checked = sink
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
