"""``python -m threshold_estimators``: the ``threshold-estimators`` command line.

Its help and messages name the program ``threshold-estimators`` (the console
script), not ``__main__.py``.
"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
