"""Screens pushed over the main view: detail, help, confirmation."""
