"""``python -m bosh_azure_cpi CONFIG_PATH``: one CPI call, request on stdin, response on stdout."""

import sys

from bosh_azure_cpi.cli import main

sys.exit(main())
