"""Flask extensions, created unbound and initialised by ``create_app``."""

from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

# Named constraints let Alembic alter them, on SQLite too (batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
compress = Compress()
login_manager = LoginManager()


def end_session(exception=None) -> None:
    """Close the context's database session, dropping it if its connection was cut under it.

    A database restart can kill the connection between a request's answer and this close:
    the answer stands, the pool has already replaced the connection, and the reader must not
    get an error for a rollback that had nothing left to undo.
    """
    try:
        db.session.remove()
    except SQLAlchemyError:
        db.session.registry.clear()
