"""Fixtures shared by the whole suite; each area adds its own in its folder's conftest.py."""

pytest_plugins = ["tests.fixtures.redis_server", "tests.fixtures.postgres_server",
                  "tests.fixtures.smtp_server"]
