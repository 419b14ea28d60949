"""``python -m fakeregistry``."""

import sys

from fakeregistry.cli import main

sys.exit(main())
