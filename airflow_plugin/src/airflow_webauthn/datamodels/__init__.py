"""Pydantic request and response bodies of the manager's routes."""

from __future__ import annotations
