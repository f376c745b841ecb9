"""One permission policy per model (see ``accounts.policies.base``).

The accounts models' policies are here; campaigns registers its own in ``campaigns/policies.py`` and
engage in ``engage/inbound/access.py``, each from its ``AppConfig.ready``.
"""

from accounts.policies.base import ACTION_ROLES, ModelPolicy, policy_for, register, registered

__all__ = ["ACTION_ROLES", "ModelPolicy", "policy_for", "register", "registered"]
