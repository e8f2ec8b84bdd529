"""A plugin that fails to import, to show one broken plugin does not stop the others."""

import imagegate_dependency_that_does_not_exist  # noqa: F401
