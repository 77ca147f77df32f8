'use strict'
// The Node benchmarks, against one local harness in one run (see bench/node/run):
//
// * cold start: median wall time and peak RSS of a whole `node` process that reads
//   STARFLEET.SlackToken, for starfleet-secrets (the release npm tarballs), @aws-sdk/client-secrets-manager
//   and @aws-lambda-powertools/parameters, plus an empty `node` process as the floor. Variants
//   run round-robin, after one unmeasured warm-up round, so drift hits them all alike;
// * cached access: ns/op of warm-cache reads (warm.js).
//
// Writes a Markdown report (--out) and prints it.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : dflt
}
const RUNS = Number(opt('--runs', '15'))
const OUT = opt('--out', null)
const PKG = path.resolve(opt('--pkg', ''))
const ADDON = path.resolve(opt('--addon', ''))
const COMMAND = opt('--command', 'bench/node/run')
const REGION = 'us-east-2'
const HERE = __dirname
const REPO = path.resolve(HERE, '..', '..')

async function moto(operation, params) {
  const response = await fetch(process.env.STARFLEET_TEST_MOTO, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `secretsmanager.${operation}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(params),
  })
  if (!response.ok) throw new Error(`moto ${operation}: ${response.status} ${await response.text()}`)
  return response.json()
}

async function getCount(secretId) {
  const r = await fetch(`${process.env.STARFLEET_TEST_PROXY}/__harness/counts?secret_id=${encodeURIComponent(secretId)}`)
  return (await r.json()).GetSecretValue || 0
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function runOnce(script, env) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [path.join(HERE, 'cold', script)], { env, cwd: HERE, encoding: 'utf8' })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`)
  const rss = Number(/rss_kb (\d+)/.exec(r.stdout)[1])
  const chars = Number(/token_chars (\d+)/.exec(r.stdout)[1])
  return { ms, rssMiB: rss / 1024, chars }
}

// The harness's two listeners; HTTPS is what deployments see (the headline), HTTP beside it.
const TRANSPORTS = { HTTPS: 'STARFLEET_TEST_PROXY_HTTPS', HTTP: 'STARFLEET_TEST_PROXY' }

const VARIANTS = [
  { key: 'baseline', script: 'baseline.js', label: '`node` doing nothing (floor)', calls: 0 },
  { key: 'load', script: 'starfleet-secrets-load.js', label: 'starfleet-secrets, `require()` only (no read)', calls: 0 },
  { key: 'starfleet', script: 'starfleet-secrets.js', label: '**starfleet-secrets** (release npm packages)', calls: 1 },
  { key: 'sdk', script: 'aws-sdk.js', label: '`@aws-sdk/client-secrets-manager`', calls: 1, nodeTls: true },
  { key: 'powertools', script: 'powertools.js', label: '`@aws-lambda-powertools/parameters`', calls: 1, nodeTls: true },
]

/**
 * The environment of variant `v` over transport `t`. The harness's NODE_EXTRA_CA_CERTS (its CA)
 * is only for the variants that use Node's own TLS: set, it makes Node build its whole root
 * store at start-up (~15-20 ms of CPU here), which a process making no TLS connection of Node's
 * never does, as on Lambda's Node.js 20 and later runtimes, which do not set it.
 */
function envFor(envs, v, t) {
  if (v.nodeTls) return envs[t]
  const { NODE_EXTRA_CA_CERTS: _, ...rest } = envs[t]
  return rest
}

function version(pkg) {
  return JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', pkg, 'package.json'), 'utf8')).version
}

/** Hand-written sections of the report at `file` (from the KEPT marker on), kept across runs. */
const KEPT = '<!-- Hand-written sections below: kept by bench/node/run. -->'
function keptSections(file) {
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const at = old.indexOf(KEPT)
  return at < 0 ? '' : `\n${old.slice(at)}`
}

async function main() {
  const secretId = `BenchStarfleet-${process.pid}-${Date.now()}`
  const doc = fs.readFileSync(path.join(REPO, 'examples', 'secret.json'), 'utf8')
  await moto('CreateSecret', { Name: secretId, SecretString: doc })
  const expectedChars = JSON.parse(doc).STARFLEET.SlackToken.length
  const env = {
    ...process.env,
    STARFLEET_SECRET_ID: secretId,
    STARFLEET_SECRET_REGION: REGION,
    AWS_REGION: REGION,
    BENCH_STARFLEET_PKG: PKG,
  }
  delete env.STARFLEET_CONFIG
  // Both listeners of the harness: HTTPS (private CA, verification on; the headline) and HTTP.
  const envs = Object.fromEntries(
    Object.entries(TRANSPORTS).map(([t, variable]) => [
      t,
      { ...env, AWS_ENDPOINT_URL_SECRETS_MANAGER: process.env[variable] },
    ]),
  )

  // Warm-up round (unmeasured), which also checks that every variant reads the right value
  // through the proxy: one GetSecretValue each, over each transport.
  for (const v of VARIANTS) {
    for (const t of Object.keys(TRANSPORTS)) {
      const before = await getCount(secretId)
      const r = runOnce(v.script, envFor(envs, v, t))
      const calls = (await getCount(secretId)) - before
      if (v.calls && (r.chars !== expectedChars || calls !== v.calls)) {
        throw new Error(`${v.script} over ${t}: read ${r.chars} chars with ${calls} calls`)
      }
    }
  }
  const loadBefore = os.loadavg()
  const samples = {}
  for (const t of Object.keys(TRANSPORTS)) samples[t] = Object.fromEntries(VARIANTS.map((v) => [v.key, []]))
  for (let i = 0; i < RUNS; i++) {
    for (const v of VARIANTS) {
      for (const t of Object.keys(TRANSPORTS)) samples[t][v.key].push(runOnce(v.script, envFor(envs, v, t)))
    }
  }
  const loadAfter = os.loadavg()
  const summary = (xs) => ({
    ms: median(xs.map((s) => s.ms)),
    rss: median(xs.map((s) => s.rssMiB)),
    msMin: Math.min(...xs.map((s) => s.ms)),
    msMax: Math.max(...xs.map((s) => s.ms)),
  })
  const byTransport = Object.fromEntries(
    Object.keys(TRANSPORTS).map((t) => [t, Object.fromEntries(VARIANTS.map((v) => [v.key, summary(samples[t][v.key])]))]),
  )
  const cold = byTransport.HTTPS

  const warmRun = spawnSync(process.execPath, [path.join(HERE, 'warm.js')], { env, cwd: HERE, encoding: 'utf8' })
  if (warmRun.status !== 0) throw new Error(`warm.js failed: ${warmRun.stderr}`)
  const warm = JSON.parse(warmRun.stdout.trim().split('\n').pop())

  const addon = path.basename(ADDON)
  const addonBytes = fs.statSync(ADDON).size

  const sdk = cold.sdk
  const wallRatio = cold.starfleet.ms / sdk.ms
  const rssRatio = cold.starfleet.rss / sdk.rss
  const fmt = (x, d = 1) => x.toFixed(d)
  const cpu = (os.cpus()[0] || {}).model || 'unknown CPU'
  const lines = []
  lines.push('# Node benchmarks (`bench/node/`)')
  lines.push('')
  lines.push(`Command: \`${COMMAND}\` (${RUNS} measured runs per variant, round-robin after one warm-up round;`)
  const host = new URL(process.env.STARFLEET_TEST_PROXY_HTTPS).hostname
  lines.push(`one local harness: moto behind the fault proxy on 127.0.0.1, no faults, reached as \`${host}\``)
  lines.push('(bench/by-name: by name, as workers reach Secrets Manager, unless `ENDPOINT=ip`)).')
  lines.push('')
  lines.push(
    `Machine: ${os.cpus().length} × ${cpu}, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, ${os.type()} ${os.release()}; ` +
      `Node ${process.version}. Packages: @aws-sdk/client-secrets-manager ${version('@aws-sdk/client-secrets-manager')}, ` +
      `@aws-lambda-powertools/parameters ${version('@aws-lambda-powertools/parameters')}. ` +
      `Load average (1, 5, 15 min) before the cold starts: ${loadBefore.map((x) => fmt(x, 2)).join(', ')}; ` +
      `after: ${loadAfter.map((x) => fmt(x, 2)).join(', ')}.`,
  )
  lines.push('')
  lines.push(
    `starfleet-secrets ${version('starfleet-secrets')} installed from the release npm tarballs (\`scripts/dist\`: ` +
      `the main package and its platform package). Release addon \`${addon}\`: ` +
      `**${addonBytes} bytes (${fmt(addonBytes / 2 ** 20, 2)} MiB)**, stripped.`,
  )
  lines.push('')
  lines.push('## Cold start: a whole `node` process reading `STARFLEET.SlackToken`')
  lines.push('')
  lines.push(
    '**HTTPS** is the harness\'s TLS listener (private CA in `AWS_CA_BUNDLE`, and in `NODE_EXTRA_CA_CERTS` for the variants that use Node\'s TLS only, ' +
      'verification on), as every deployment sees it; **HTTP** is the same proxy without TLS. Every ' +
      '(variant, transport) pair runs in each round; ratios are against the JS SDK over the same transport.',
  )
  lines.push('')
  lines.push(
    '| variant | HTTPS wall, median (min–max) | vs JS SDK | HTTPS peak RSS | vs JS SDK | HTTP wall | vs JS SDK | HTTP peak RSS | vs JS SDK |',
  )
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const v of VARIANTS) {
    const c = cold[v.key]
    const p = byTransport.HTTP[v.key]
    const ps = byTransport.HTTP.sdk
    lines.push(
      `| ${v.label} | ${fmt(c.ms)} ms (${fmt(c.msMin)}–${fmt(c.msMax)}) | ${fmt(c.ms / sdk.ms, 2)}× | ` +
        `${fmt(c.rss)} MiB | ${fmt(c.rss / sdk.rss, 2)}× | ${fmt(p.ms)} ms | ${fmt(p.ms / ps.ms, 2)}× | ` +
        `${fmt(p.rss)} MiB | ${fmt(p.rss / ps.rss, 2)}× |`,
    )
  }
  lines.push('')
  lines.push(
    `Targets (HTTPS): wall ≤ 0.6× the JS SDK's: **${wallRatio <= 0.6 ? 'met' : 'not met'}** (${fmt(wallRatio, 3)}×); ` +
      `peak RSS ≤ 0.85× the JS SDK's: **${rssRatio <= 0.85 ? 'met' : 'not met'}** (${fmt(rssRatio, 3)}×). ` +
      `starfleet-secrets over HTTPS − over HTTP: ${fmt(cold.starfleet.ms - byTransport.HTTP.starfleet.ms)} ms wall.`,
  )
  lines.push('')
  lines.push('Wall time is spawn to exit as seen by the parent; peak RSS is the child\'s own')
  lines.push('`process.resourceUsage().maxRSS` at exit. Each reading variant makes exactly one')
  lines.push('GetSecretValue (checked at the proxy during the warm-up round).')
  lines.push('')
  const above = (k) => cold[k].rss - cold.baseline.rss
  lines.push(
    `Above the empty-process floor, starfleet-secrets adds ${fmt(above('starfleet'))} MiB of peak RSS ` +
      `(${fmt(above('load'))} MiB of it just loading the addon: mapping and linking it against \`node\`'s ` +
      `symbol table, the code paged in) against ${fmt(above('sdk'))} MiB for the JS SDK and ` +
      `${fmt(above('powertools'))} MiB for Powertools; the ratio target is taken on totals, ` +
      `${fmt(cold.baseline.rss)} MiB of which is \`node\` itself.`,
  )
  lines.push('')
  lines.push('## Cached access (one process, warm cache)')
  lines.push('')
  lines.push('| operation | ns/op (median of 7 batches) |')
  lines.push('| --- | --- |')
  lines.push(`| \`SECRETS_MANAGER.cached('STARFLEET', 'SlackToken')\` | ${fmt(warm.cached, 0)} |`)
  lines.push(`| \`SECRETS_MANAGER.cached('STARFLEET.SlackToken')\` | ${fmt(warm.cachedDotted, 0)} |`)
  lines.push(`| \`await SECRETS_MANAGER.get('STARFLEET', 'SlackToken')\` | ${fmt(warm.get, 0)} |`)
  lines.push(`| \`(await SECRETS_MANAGER.secrets()).STARFLEET.SlackToken\` | ${fmt(warm.secrets, 0)} |`)
  lines.push(`| reference: Powertools \`await getSecret(id, { transform: 'json' })\`, its own cache | ${fmt(warm.powertoolsCached, 0)} |`)
  lines.push(`| reference: JS SDK \`await client.send(GetSecretValue)\` (no cache: a local HTTP call) | ${fmt(warm.sdkUncached, 0)} |`)
  lines.push('')
  lines.push(`starfleet-secrets made ${warm.starfleetFetches} fetch(es) during the cached-access loops.`)
  const report = `${lines.join('\n')}\n`
  if (OUT) fs.writeFileSync(OUT, report + keptSections(OUT))
  process.stdout.write(report)
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
