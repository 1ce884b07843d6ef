import sys

from kwizard.cli.main import main

sys.exit(main())
