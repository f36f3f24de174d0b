"""Fixtures the dashboard tests share with the service's tests."""

from tests.test_service import short_dir

__all__ = ["short_dir"]
