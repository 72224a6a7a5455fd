"""Errors that end a command with one line and a contract exit code (docs/exit-codes.md)."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


class GtcheckError(Exception):
    """An error the user can act on; shown as one line, never as a traceback."""

    exit_code = EXIT_USAGE


class UsageError(GtcheckError):
    """Bad flags, values or configuration: the user must change the command."""

    exit_code = EXIT_USAGE


class EnvironmentProblem(GtcheckError):
    """The AWS side (or the simulator) cannot be reached or used as configured.

    `regions` names the regions the problem is confined to (empty: all of them), so a step
    that needs only other regions can still be judged.
    """

    exit_code = EXIT_ENVIRONMENT

    def __init__(self, message: str, *, regions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.regions = regions


class ReplicationTimeout(EnvironmentProblem):
    """A write did not arrive where it should within the deadline: the environment answers
    but does not replicate (validate counts it a failure, not an unusable environment)."""


class ResourceMissing(EnvironmentProblem):
    """AWS answered ResourceNotFoundException: a table, index or stream is not there."""


class TableMissing(EnvironmentProblem):
    """The workshop table does not exist in one region."""

    def __init__(self, message: str, *, region: str) -> None:
        super().__init__(message, regions=(region,))
        self.region = region
