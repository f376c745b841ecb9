"""Pages for replies (engage/inbound/urls.py mounts them).

``inbox``: the staff triage inbox under /desk/inbox/ (list, bulk, export, a reply's page, rights, settings);
``actions``: the buttons on a reply's page, one view per action; ``contact``: the public pages where
citizens write in.
"""
