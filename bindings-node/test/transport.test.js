'use strict'
// HTTPS with certificate verification: the harness's TLS listener, the trusted-roots
// variables, and a typed refusal (never a fallback to no verification) when they are wrong.
// The roots are read once per SDK client of a process, so each case runs in its own `node`.

const test = require('node:test')
const assert = require('node:assert/strict')

const h = require('./helpers')

const READ = `
const { SecretsManager } = require('starfleet-secrets')
new SecretsManager({ secretId: process.argv[1], region: '${h.REGION}' })
  .get('STARFLEET.SlackToken')
  .then((v) => console.log(String(v.length)), (e) => console.log(e.code + ' ' + e.message))
`

async function read(name, env) {
  const out = await h.runNode(['-e', READ, name], { env })
  assert.equal(out.code, 0, out.stderr)
  return out.stdout.trim()
}

test('the default endpoint is HTTPS with verification', async () => {
  assert.match(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER, /^https:\/\//)
  const name = h.unique('tls')
  await h.createSecret(name, { STARFLEET: { SlackToken: 'xoxb-tls' } })
  assert.equal(await read(name, {}), String('xoxb-tls'.length))
  assert.equal(await h.getCount(name), 1)
})

test('wrong roots are a NETWORK error and nothing is sent', async () => {
  const name = h.unique('tls-wrong')
  await h.createSecret(name, { STARFLEET: { SlackToken: 'xoxb-tls' } })
  const wrong = process.env.STARFLEET_TEST_WRONG_CA
  for (const [variable, other] of [
    ['AWS_CA_BUNDLE', 'SSL_CERT_FILE'],
    ['SSL_CERT_FILE', 'AWS_CA_BUNDLE'],
  ]) {
    const line = await read(name, { [variable]: wrong, [other]: undefined })
    assert.match(line, /^NETWORK .*certificate/, `${variable}: ${line}`)
  }
  assert.equal(await h.getCount(name), 0)
})

test('an unreadable CA bundle is CONFIG_INVALID naming the variable', async () => {
  const name = h.unique('tls-missing')
  await h.createSecret(name, { STARFLEET: { SlackToken: 'xoxb-tls' } })
  const line = await read(name, { AWS_CA_BUNDLE: '/nonexistent/ca.pem' })
  assert.match(line, /^CONFIG_INVALID .*AWS_CA_BUNDLE \(\/nonexistent\/ca\.pem\)/)
})
