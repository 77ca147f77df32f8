// Compiled (never run) by test/types.test.js: the hand-written index.d.ts and the generated
// binding.d.ts describe the API the tests exercise, and reject misuse.
import {
  SECRETS_MANAGER,
  SecretsManager,
  StarfleetSecretsError,
  codes,
  coreVersion,
  type Code,
  type ManagerOptions,
  type SecretDocument,
  type Stats,
} from 'starfleet-secrets'

async function worker(): Promise<void> {
  const token: string = await SECRETS_MANAGER.get<string>('STARFLEET', 'SlackToken')
  const dotted = await SECRETS_MANAGER.get('STARFLEET.SlackToken')
  const doc: SecretDocument = await SECRETS_MANAGER.secrets()
  const cached: string | undefined = SECRETS_MANAGER.cached<string>('STARFLEET', 'SlackToken')
  const whole: SecretDocument | undefined = SECRETS_MANAGER.cached()
  const refreshed: SecretDocument | Buffer = await SECRETS_MANAGER.refresh()
  const stats: Stats = SECRETS_MANAGER.stats()
  const fetches: number = stats.fetches
  const lastError: Code | null = stats.last_error
  SECRETS_MANAGER.invalidate()
  SECRETS_MANAGER.configure({ secretId: 'Starfleet', region: 'us-east-2', ttl: 'never' })
  const options: ManagerOptions = {
    secretId: 'arn:aws:secretsmanager:us-east-2:123456789012:secret:S-abcdef',
    region: 'us-east-2',
    config: { yaml: 'STARFLEET: {}', name: 'inline.yaml' },
    ttl: 300,
    versionStage: 'AWSPREVIOUS',
    maxStale: 0,
    timeout: 2,
    endpointUrl: 'http://127.0.0.1:1',
  }
  const m = new SecretsManager(options)
  const bytes: Buffer = await m.secretBinary()
  m.pin({ STARFLEET: { SlackToken: 'x' } })
  m.pin(Buffer.from('x'))
  m.unpin()
  const unsubscribe: () => void = m.onChange((oldVersionId: string | null, newVersionId: string) => {
    console.log(oldVersionId ?? 'first load', newVersionId.length)
  })
  unsubscribe()
  try {
    await m.get('x')
  } catch (e) {
    if (e instanceof StarfleetSecretsError) {
      const code: Code = e.code
      const n: number = e.number
      if (e.code === codes.SECRET_NOT_FOUND) console.log(code, n)
    }
  }
  const version: string = coreVersion
  console.log(token, dotted, doc, cached, whole, refreshed, fetches, lastError, bytes, version)

  // @ts-expect-error the callback gets VersionIds, not a number
  m.onChange((oldVersionId: number) => oldVersionId)
  // @ts-expect-error a key path needs at least one key
  await m.get()
  // @ts-expect-error keys are strings
  await m.get('a', 1)
  // @ts-expect-error unknown option
  new SecretsManager({ secretID: 'typo' })
  // @ts-expect-error ttl is seconds or a spelling, not a boolean
  new SecretsManager({ ttl: true })
  // @ts-expect-error codes are a closed set
  const bad: Code = 'NOT_A_CODE'
  // @ts-expect-error the document is read-only
  doc.STARFLEET = {}
  console.log(bad)
}

void worker
