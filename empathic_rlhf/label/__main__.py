"""``python -m empathic_rlhf.label serve|import|invite|...`` (same as ``empathic label ...``)."""

import sys

from .commands import main

sys.exit(main())
