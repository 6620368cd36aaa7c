"""``python -m modelworks.cli``: the ``modelworks`` command (the demo and the tests start it so)."""

from __future__ import annotations

import sys

from modelworks.cli import main

if __name__ == "__main__":
    sys.exit(main())
