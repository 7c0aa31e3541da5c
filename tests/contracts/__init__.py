"""Contract tests: one suite per seam (a Protocol), run against every implementation of it.

Each module parametrizes one fixture over the real implementations (and the real backends they run on),
so a new implementation joins by adding a parameter, and a promise broken by one of them fails by name.
What only one implementation does (SQL migrations, pruning, a Redis lease) is tested beside it instead.
"""
