"""Registry names that are the same under a regular and an editable install.

Inspect prefixes an extension's registry names with its import package only when it can tie
the module to site-packages or to an editable distribution of the same name. The distribution
here is ``asymmetryzero`` and the import package ``asymmetryzero_inspect``, so an editable
install would register bare names such as ``contract_scorer``. Passing the result of
:func:`registry_name_for` to Inspect's decorators gives ``asymmetryzero_inspect/<name>`` in both
install modes.
"""

from __future__ import annotations

PACKAGE = "asymmetryzero_inspect"


def registry_name_for(name: str) -> str:
    """Return the name to give an Inspect decorator so the object registers as ``asymmetryzero_inspect/<name>``.

    Args:
        name: The unqualified name, e.g. ``contract_scorer``.

    Returns:
        ``name`` when Inspect adds the package prefix itself, otherwise the prefixed name.
    """
    # NOTE: a private Inspect function (checked on inspect-ai 0.3.285), used so the decision
    # follows Inspect's own rule; the install-mode tests fail if that rule changes.
    from inspect_ai._util.registry import registry_name

    qualified = f"{PACKAGE}/{name}"
    return name if registry_name(registry_name_for, name) == qualified else qualified
