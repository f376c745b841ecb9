"""Pieces of ``engage.settings`` kept apart to keep it short: the environment parsing (``env``)
and the fixed tables that depend on no environment variable (``stack``, ``web``). Every setting is
still read from ``engage.settings``, which imports these by name."""
