"""Plugins the core registers itself, exactly as installed plugins are registered."""
