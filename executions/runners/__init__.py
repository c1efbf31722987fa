"""Runners: the Docker runner (the default for script tasks, as in Kestra) and the
Process runner, both keeping the contract in ``base``."""
