"""``python -m designer``: the same as the ``cnn-designer`` command."""

import sys

from designer.cli import main

sys.exit(main())
