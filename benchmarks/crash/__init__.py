"""The crash checker (`python -m benchmarks.crash`): nothing acknowledged is lost, nothing is left half done."""
