"""Errors that end a command with one line and a contract exit code (RUBRIC.md)."""

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
    """The AWS side (or the simulator) cannot be reached or used as configured."""

    exit_code = EXIT_ENVIRONMENT
