"""`python -m gtcheck` is the `gtcheck` command."""

import sys

from gtcheck.cli import main

sys.exit(main())
