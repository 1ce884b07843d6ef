import sys

from kwizard.cli import main

sys.exit(main())
