"""``python -m pointplan.cli``: the same as the ``pointplan`` command."""

import sys

from pointplan.cli import main

sys.exit(main())
