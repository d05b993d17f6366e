from flask import Blueprint

bp = Blueprint("public", __name__)


@bp.record_once
def _init_page_cache(state):
    from capital.public import cache

    cache.init_app(state.app)


from capital.public import routes  # noqa: E402,F401
