from starfleet_secrets import SecretsConfigurationMissingError, SecretsManager as _SecretsManager  # noqa: F401
from starfleet.utils.configuration import STARFLEET_CONFIGURATION


class SecretsManager(_SecretsManager):
    def __init__(self) -> None:
        super().__init__(config=lambda: STARFLEET_CONFIGURATION.config)


SECRETS_MANAGER = SecretsManager()
