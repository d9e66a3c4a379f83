"""Entry point of the frozen app: the same command line as ``bedside``."""

import sys

from viewer.cli import main

if __name__ == "__main__":
    sys.exit(main())
