"""Production code of a worker ship: reads its private key the way Starfleet workers do."""

from starfleet.utils.secrets import SECRETS_MANAGER


def private_key_for(org: str) -> str:
    key: str = SECRETS_MANAGER.secrets["GitHubSyncWorker"][org]
    return key


def slack_token() -> str:
    token: str = SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"]
    return token
