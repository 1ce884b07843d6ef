"""The exit codes of the headless commands (docs/cli.md lists them)."""

EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_PREFLIGHT = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of the output went away (`kwizard plan … | head`)
