"""Every write and state transition of the campaigns room. Import from the submodules."""
