"""`python -m gtcheck` is the `gtcheck` command."""

from gtcheck.cli import entry

entry()
