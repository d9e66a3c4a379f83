"""`python -m viewer` runs the same command line as `bedside`."""

import sys

from viewer.cli import main

sys.exit(main())
