// The floor under the Node worker: the same GetSecretValue over HTTPS with verification, by
// node:https (Node's own roots plus NODE_EXTRA_CA_CERTS, the harness CA): one TLS handshake,
// one request, the JSON read, without SigV4 (moto does not check signatures). See floor.py.
const https = require('node:https')

const env = process.env
const body = JSON.stringify({ SecretId: env.STARFLEET_SECRET_ID })
const request = https.request(env.AWS_ENDPOINT_URL_SECRETS_MANAGER, {
  method: 'POST',
  headers: {
    'Content-Type': 'application/x-amz-json-1.1',
    'X-Amz-Target': 'secretsmanager.GetSecretValue',
    'X-Amz-Date': '20260101T000000Z',
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDFLOOR/20260101/${env.STARFLEET_SECRET_REGION}/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
    'Content-Length': Buffer.byteLength(body),
  },
}, (answer) => {
  const chunks = []
  answer.on('data', (c) => chunks.push(c))
  answer.on('end', () => {
    if (answer.statusCode !== 200) throw new Error(`status ${answer.statusCode}`)
    const token = JSON.parse(JSON.parse(Buffer.concat(chunks)).SecretString).STARFLEET.SlackToken
    if (!token.startsWith('xoxb-')) throw new Error('unexpected token')
  })
})
request.end(body)
