// Cold start: the same read with @aws-sdk/client-secrets-manager (what Node workers use today).
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager')

process.on('exit', () => process.stdout.write(`rss_kb ${process.resourceUsage().maxRSS}\n`))
const client = new SecretsManagerClient({ region: process.env.STARFLEET_SECRET_REGION })
client.send(new GetSecretValueCommand({ SecretId: process.env.STARFLEET_SECRET_ID })).then((out) => {
  const token = JSON.parse(out.SecretString).STARFLEET.SlackToken
  process.stdout.write(`token_chars ${token.length}\n`)
})
