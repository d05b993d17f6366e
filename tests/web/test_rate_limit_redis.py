"""With redis configured, the sign-in limit's counters live in redis (shared by every web machine)."""

import pytest
import redis

from capital.domain.roles import Role
from tests.conftest import TEST_REDIS_URL, WebClient, dispose, make_config

pytestmark = pytest.mark.redis


def test_failed_sign_ins_are_counted_in_redis(session_app, tmp_path, make_user):
    from capital import create_app

    user = make_user(Role.SECRETARIAT)
    client_redis = redis.Redis.from_url(TEST_REDIS_URL)
    client_redis.flushdb()
    app = create_app(make_config(tmp_path, REDIS_URL=TEST_REDIS_URL))
    try:
        browser = WebClient(app.test_client())
        for _ in range(5):
            assert browser.post("/account/login", {"email": user.email, "password": "wrong"}).status_code == 401
        assert any(b"login" in key or b"LIMITER" in key for key in client_redis.keys("*"))
        # A second web machine sharing the same redis sees the same counters.
        other_machine = WebClient(app.test_client())
        assert other_machine.post("/account/login", {"email": user.email, "password": "wrong"}).status_code == 429
    finally:
        client_redis.flushdb()
        client_redis.close()
        dispose(app)
