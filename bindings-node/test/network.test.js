'use strict'
// An HTTPS proxy, resolved by core for every language: `HTTPS_PROXY` (the endpoint reachable
// only through the harness's CONNECT proxy, which counts the tunnel), `NO_PROXY` bypassing
// it, and a refusing proxy named in a NETWORK error without its password. Each case runs in
// its own `node`, since the proxy is read once per SDK client of a process.

const test = require('node:test')
const assert = require('node:assert/strict')

const h = require('./helpers')

const READ = `
const { SecretsManager } = require('starfleet-secrets')
new SecretsManager({ secretId: process.argv[1], region: '${h.REGION}' })
  .get('STARFLEET.SlackToken')
  .then((v) => console.log(String(v.length)), (e) => console.log(e.code + ' ' + e.message))
`

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']

async function read(name, env) {
  const cleared = Object.fromEntries(PROXY_VARS.map((k) => [k, undefined]))
  const out = await h.runNode(['-e', READ, name], { env: { ...cleared, ...env } })
  assert.equal(out.code, 0, out.stderr)
  return out.stdout.trim()
}

const stats = (proxy) => h.control('GET', `connect-proxies/${proxy.id}`)

test('reads through HTTPS_PROXY and the proxy counts the tunnel', async () => {
  const name = h.unique('proxy')
  await h.createSecret(name, { STARFLEET: { SlackToken: 'xoxb-proxy' } })
  const endpoint = process.env.STARFLEET_TEST_PRIVATE_ENDPOINT
  assert.match(await read(name, { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint }), /^NETWORK /)
  const proxy = await h.control('POST', 'connect-proxies', {})
  const line = await read(name, { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, HTTPS_PROXY: proxy.url })
  assert.equal(line, String('xoxb-proxy'.length))
  assert.deepEqual((await stats(proxy)).targets, { [endpoint.replace('https://', '')]: 1 })
  assert.equal(await h.getCount(name), 1)
})

test('NO_PROXY matching the endpoint bypasses the proxy', async () => {
  const name = h.unique('no-proxy')
  await h.createSecret(name, { STARFLEET: { SlackToken: 'xoxb-proxy' } })
  const proxy = await h.control('POST', 'connect-proxies', {})
  assert.equal(await read(name, { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }), '10')
  assert.equal((await stats(proxy)).tunnels, 0)
  assert.equal(await read(name, { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com' }), '10')
  assert.equal((await stats(proxy)).tunnels, 1)
})

test('a refusing proxy is NETWORK naming it without its password', async () => {
  const name = h.unique('proxy-refuses')
  await h.createSecret(name, { STARFLEET: { SlackToken: 'xoxb-proxy' } })
  const proxy = await h.control('POST', 'connect-proxies', { refuse: 403 })
  const port = proxy.url.split(':').pop()
  const line = await read(name, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: process.env.STARFLEET_TEST_PRIVATE_ENDPOINT,
    HTTPS_PROXY: `http://erin:js-s3cret@127.0.0.1:${port}`,
  })
  assert.match(line, /^NETWORK /)
  assert.ok(line.includes(`http://erin:***@127.0.0.1:${port} (HTTPS_PROXY)`), line)
  assert.ok(!line.includes('js-s3cret'), line)
  assert.equal(await h.getCount(name), 0)
})
