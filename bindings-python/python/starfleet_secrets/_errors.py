"""The exception hierarchy: one class per stable core error code.

Naming rule: ``Secrets`` + the code in CamelCase + ``Error``, with a leading ``SECRET_``
dropped and ``CONFIG`` spelled ``Configuration`` (``SECRET_NOT_FOUND`` ->
``SecretsNotFoundError``, ``CONFIG_MISSING`` -> Starfleet's own
``SecretsConfigurationMissingError``). The names of earlier releases (``SecretNotFoundError``,
``SecretAccessDeniedError``, ``SecretDecryptionError``, ``SecretFormatError``,
``SecretKeyNotFoundError``) stay as aliases of the same classes.

Every error the library raises is a :class:`StarfleetSecretsError`. Each subclass stands for
one code of the core (the same codes Node's ``err.code``, the C enum and Go's sentinel errors
use) and has it as the class attribute ``code``, with ``number`` (the C enum value) and
``transient`` (whether retrying later could succeed without anyone changing anything).

Messages say which secret, region, file or key path is involved so the reader can fix the
problem, and never contain a secret value (they are built in the core from names only).
"""

# No `typing` import at run time (it costs cold-start milliseconds), and no `from __future__
# import annotations` (a real import too): annotations naming its types are strings.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar, Dict, Type

# No __all__ here: the package's own (a literal list in __init__.py) is the one list of the
# public names; tests/test_errors.py checks every code's class is in it.


class StarfleetSecretsError(Exception):
    """Base class of every error raised by starfleet_secrets."""

    code: "ClassVar[str]" = ""
    """The stable error code, e.g. ``"SECRET_NOT_FOUND"`` (set on each subclass)."""
    number: "ClassVar[int]" = 0
    """The stable error number (the C enum value)."""
    transient: "ClassVar[bool]" = False
    """Whether retrying later could succeed without anyone changing anything."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class SecretsConfigurationMissingError(StarfleetSecretsError):
    """CONFIG_MISSING: no secret location in arguments, environment or Starfleet configuration.

    The name is Starfleet's own, so ``except SecretsConfigurationMissingError`` keeps working.
    """

    code = "CONFIG_MISSING"


class SecretsConfigurationInvalidError(StarfleetSecretsError):
    """CONFIG_INVALID: a Starfleet configuration or an option is present but wrong."""

    code = "CONFIG_INVALID"


class SecretsNotFoundError(StarfleetSecretsError):
    """SECRET_NOT_FOUND: the secret (or the requested version or stage) does not exist."""

    code = "SECRET_NOT_FOUND"


class SecretsAccessDeniedError(StarfleetSecretsError):
    """ACCESS_DENIED: the credentials are valid but not allowed to read the secret."""

    code = "ACCESS_DENIED"


class SecretsDecryptionFailedError(StarfleetSecretsError):
    """DECRYPTION_FAILED: Secrets Manager could not decrypt the secret with its KMS key."""

    code = "DECRYPTION_FAILED"


class SecretsCredentialsError(StarfleetSecretsError):
    """CREDENTIALS: no usable AWS credentials (missing, expired or rejected)."""

    code = "CREDENTIALS"


class SecretsThrottledError(StarfleetSecretsError):
    """THROTTLED: the API throttled the calls and the retries ran out."""

    code = "THROTTLED"


class SecretsTimeoutError(StarfleetSecretsError):
    """TIMEOUT: the call did not finish within its deadline."""

    code = "TIMEOUT"


class SecretsNetworkError(StarfleetSecretsError):
    """NETWORK: the endpoint could not be reached (refused, reset, DNS, TLS)."""

    code = "NETWORK"


class SecretsServiceError(StarfleetSecretsError):
    """SERVICE: Secrets Manager answered with a server error, or an unclassified one."""

    code = "SERVICE"


class SecretsFormatError(StarfleetSecretsError):
    """SECRET_FORMAT: the secret is not the expected shape.

    For example a SecretString that is not a JSON object, or SecretBinary read as a dict.
    """

    code = "SECRET_FORMAT"


class SecretsKeyNotFoundError(StarfleetSecretsError, KeyError):
    """KEY_NOT_FOUND: a key path does not exist in the document.

    Also a :class:`KeyError`, so ``except KeyError`` idioms keep working.
    """

    code = "KEY_NOT_FOUND"

    def __str__(self) -> str:  # KeyError would show repr(message)
        return self.message


class SecretsInvalidArgumentError(StarfleetSecretsError, ValueError):
    """INVALID_ARGUMENT: an argument is unusable (empty key path, negative TTL, ...).

    Also a :class:`ValueError`.
    """

    code = "INVALID_ARGUMENT"


class SecretsInternalError(StarfleetSecretsError):
    """INTERNAL: a bug in this library."""

    code = "INTERNAL"


# Earlier names, kept working (same class objects, so `except` and pickles agree).
SecretNotFoundError = SecretsNotFoundError
SecretAccessDeniedError = SecretsAccessDeniedError
SecretDecryptionError = SecretsDecryptionFailedError
SecretFormatError = SecretsFormatError
SecretKeyNotFoundError = SecretsKeyNotFoundError



_BY_CODE: "Dict[str, Type[StarfleetSecretsError]]" = {
    cls.code: cls for cls in StarfleetSecretsError.__subclasses__()
}


def _bind_to_core() -> None:
    """Take number and transient from the core's table, and check every code has a class."""
    from . import _native

    core = {code: (number, transient) for code, number, transient in _native.codes()}
    if set(core) != set(_BY_CODE):
        raise ImportError(
            "starfleet_secrets: exception classes and core error codes differ: "
            f"core only {sorted(set(core) - set(_BY_CODE))}, "
            f"Python only {sorted(set(_BY_CODE) - set(core))}"
        )
    for code, (number, transient) in core.items():
        cls = _BY_CODE[code]
        cls.number = number
        cls.transient = transient


_bind_to_core()
