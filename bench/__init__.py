"""kwizard's benchmarks: each module is a script (`python -m bench.NAME --help`); see bench/README.md."""
