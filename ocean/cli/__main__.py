"""``python -m ocean.cli`` runs the ``ocean`` command."""

import sys

from ocean.cli import main

sys.exit(main())
