"""Event awareness without surveillance (issue 18): public signals around an event, aggregate only,
purpose-bound, approved by a second supervisor, published on the transparency page.

See docs/awareness.md for the design as a data-protection impact assessment reads it."""
