"""``python -m fakeregistry``."""

import sys

from fakeregistry.cli.main import main

sys.exit(main())
