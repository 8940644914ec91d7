"""`python -m shared.cli` runs `ccproc`."""

import sys

from shared.cli import main

sys.exit(main())
