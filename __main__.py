"""Entry point of the Pulumi program (pulumi up / preview). See stacks/program.py."""

import sys

from stacks.program import SettingsError, main

try:
    main()
except SettingsError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)
