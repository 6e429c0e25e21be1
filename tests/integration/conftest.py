"""Fixtures for the API tests (tests/integration/test_api_*.py).

The `stack` fixture (tests/conftest.py) runs the whole stack; here we add
(with the helpers of tests/pd_helpers.py, also the `pd` fixture) HTTPS clients for the three kinds of caller (a portal session, an API key,
nobody), agents of both roles, mailboxes, and the checks every problem
answer must pass.  Every agent, key and mailbox has a unique name, so the
tests do not depend on each other or on their order.
"""
import pytest

import pd_helpers
from pd_helpers import Client, mailbox_input, new_agent, new_api_key
# The fake Microsoft cloud: the session stack talks to it.
from pd_helpers import fake, fake_server, stack_env  # noqa: F401


def pytest_configure(config):
    config.addinivalue_line("markers", "stops_db: stops the database; runs after every other test")


def pytest_collection_modifyitems(items):
    """Tests that stop the database run last (a stable sort keeps the rest)."""
    items.sort(key=lambda item: item.get_closest_marker("stops_db") is not None)


@pytest.fixture
def client(stack):
    """A factory of clients: client(headers=None)."""
    return lambda headers=None: Client(stack, headers)


@pytest.fixture
def anon(stack):
    return Client(stack)


@pytest.fixture(scope="session")
def admin_login(stack):
    """(username, password) of an admin agent made for these tests."""
    return new_agent(stack, "admin")


@pytest.fixture(scope="session")
def admin_cookie(stack, admin_login):
    """An admin signed in to the portal: cookie + X-CSRF-Token."""
    c = Client(stack)
    c.login(*admin_login)
    return c


@pytest.fixture(scope="session")
def admin_key(stack):
    """An admin API key client (Authorization: Bearer)."""
    _, key = new_api_key(stack, "admin")
    return Client(stack, {"Authorization": "Bearer " + key})


@pytest.fixture
def make_mailbox(admin_key):
    """Create a mailbox through the API: make_mailbox(**fields) -> body."""
    def make(**over):
        r = admin_key.post("/api/mailboxes", json=mailbox_input(**over))
        assert r.status_code == 201, r.text
        return r.json()
    return make


@pytest.fixture(scope="session")
def pd():
    """The helpers of tests/pd_helpers.py, for the test modules (which may
    also import pd_helpers themselves)."""
    return pd_helpers
