"""What the Gemini plugin's tests share besides fixtures (those live in conftest.py)."""

from __future__ import annotations

KEY = "AIzaSyFAKE_gemini_test_key_0123456789abc"
"""Shaped like a real Gemini key, so the redaction of key-shaped text is exercised too."""
