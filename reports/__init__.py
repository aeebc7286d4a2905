"""Renderers: the HTML report (from the findings table and manifest only)."""

from .html import render_html

__all__ = ["render_html"]
