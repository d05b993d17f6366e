"""Backups: every table's rows and every uploaded file in one archive, and back (docs/operations.md).

The archive is a gzipped tar holding ``manifest.json`` (format, Alembic revision, per table its
columns and row count, per member its sha256), ``tables/<table>.jsonl`` (one JSON object per row,
in primary-key order) and ``uploads/<path>`` (the upload directory's files, byte for byte).

Ballot secrecy: rows are written in primary-key order and nothing is added to them. A ballot's
key is random, so that order ties no ballot to a participation; the import inserts ballots in the
archive's order and so reintroduces no other.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum
from pathlib import Path, PurePosixPath

from alembic.migration import MigrationContext
from sqlalchemy import Date, LargeBinary, Numeric, func, select, text
from sqlalchemy.engine import Connection

from capital.extensions import db
from capital.models.types import UTCDateTime

FORMAT = "capital-backup/1"
MANIFEST = "manifest.json"
BATCH = 1000


class BackupRefused(Exception):
    """An import that would not restore a backup faithfully; nothing was changed."""


@dataclass(frozen=True)
class Summary:
    rows: dict[str, int]
    files: int


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _encode(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, IntEnum):
        return int(value)
    return value


def _decoder(column):
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return datetime.fromisoformat
    if isinstance(kind, Date):
        return date.fromisoformat
    if isinstance(kind, Numeric) and kind.asdecimal:
        return Decimal
    if isinstance(kind, LargeBinary):
        return base64.b64decode
    return None


def _ordered_tables():
    return list(db.metadata.sorted_tables)


def _files(root: Path):
    if root.is_dir():
        yield from sorted(path for path in root.rglob("*") if path.is_file())


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_backup(target: Path, upload_dir: Path) -> Summary:
    """Write the whole database and ``upload_dir`` to the archive ``target`` (read in one transaction)."""
    members: dict[str, str] = {}
    tables: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch, db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        revision = _revision(connection)
        for table in _ordered_tables():
            name = f"tables/{table.name}.jsonl"
            path = Path(scratch) / f"{table.name}.jsonl"
            digest, count = hashlib.sha256(), 0
            order = list(table.primary_key.columns) or list(table.columns)
            result = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
            with path.open("wb") as out:
                for partition in result.partitions():
                    for row in partition:
                        line = json.dumps({key: _encode(value) for key, value in row._mapping.items()},
                                          ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                        data = (line + "\n").encode("utf-8")
                        out.write(data)
                        digest.update(data)
                        count += 1
            members[name] = digest.hexdigest()
            tables[table.name] = {"rows": count, "columns": [column.name for column in table.columns]}
        connection.rollback()
        files = [(f"uploads/{path.relative_to(upload_dir).as_posix()}", path) for path in _files(upload_dir)]
        for name, path in files:
            members[name] = _sha256_file(path)
        manifest = {"format": FORMAT, "alembic_revision": revision, "tables": tables, "members": members}
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            for table in _ordered_tables():
                archive.add(Path(scratch) / f"{table.name}.jsonl", arcname=f"tables/{table.name}.jsonl",
                            recursive=False)
            for name, path in files:
                archive.add(path, arcname=name, recursive=False)
        partial.replace(target)
    return Summary({name: entry["rows"] for name, entry in tables.items()}, len(files))


def _safe_upload_path(name: str, upload_dir: Path) -> Path:
    relative = PurePosixPath(name).relative_to("uploads")
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BackupRefused(f"the archive holds an unsafe path: {name!r}")
    return upload_dir.joinpath(*relative.parts)


def import_backup(source: Path, upload_dir: Path) -> Summary:
    """Restore the archive ``source`` into the EMPTY database and ``upload_dir``; all or nothing."""
    try:
        archive = tarfile.open(source, "r:gz")
    except (OSError, tarfile.TarError) as error:
        raise BackupRefused(f"{source} is not a Capital backup: {error}") from None
    with archive, tempfile.TemporaryDirectory() as scratch:
        manifest, extracted = None, {}
        for member in archive:
            if not member.isfile():
                raise BackupRefused(f"the archive holds something other than a file: {member.name!r}")
            stream = archive.extractfile(member)
            if member.name == MANIFEST:
                manifest = json.load(stream)
                continue
            if manifest is None:
                raise BackupRefused("the archive does not start with its manifest")
            expected = manifest["members"].get(member.name)
            if expected is None:
                raise BackupRefused(f"the archive holds a file its manifest does not list: {member.name!r}")
            path = Path(scratch) / f"{len(extracted)}"
            digest = hashlib.sha256()
            with path.open("wb") as out:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected:
                raise BackupRefused(f"{member.name} does not match its checksum in the manifest: the archive is damaged")
            extracted[member.name] = path
        if manifest is None or manifest.get("format") != FORMAT:
            raise BackupRefused(f"{source} is not a Capital backup (no {FORMAT} manifest)")
        missing = set(manifest["members"]) - set(extracted)
        if missing:
            raise BackupRefused(f"the archive lacks {', '.join(sorted(missing))}")
        uploads = {name: _safe_upload_path(name, upload_dir) for name in extracted if name.startswith("uploads/")}
        clashes = [str(path) for path in uploads.values() if path.exists()]
        if clashes:
            raise BackupRefused(f"the upload directory already holds {clashes[0]}")
        written: list[Path] = []
        try:
            with db.engine.begin() as connection:
                revision = _revision(connection)
                if revision != manifest["alembic_revision"]:
                    raise BackupRefused(f"the archive was written at schema revision {manifest['alembic_revision']}, "
                                        f"the database is at {revision}: run `flask db upgrade` to the same "
                                        "revision first")
                tables = _ordered_tables()
                if set(manifest["tables"]) != {table.name for table in tables}:
                    raise BackupRefused("the archive's tables are not this version's: "
                                        + ", ".join(sorted(set(manifest["tables"]) ^ {t.name for t in tables})))
                filled = [table.name for table in tables
                          if connection.scalar(select(func.count()).select_from(table)) > 0]
                if filled:
                    raise BackupRefused("the database is not empty (rows in " + ", ".join(filled)
                                        + "): import only into a freshly migrated database")
                rows = {}
                for table in tables:
                    lines = extracted.get(f"tables/{table.name}.jsonl")
                    if lines is None:
                        raise BackupRefused(f"the archive lacks tables/{table.name}.jsonl")
                    rows[table.name] = _insert(connection, table, lines)
                    if rows[table.name] != manifest["tables"][table.name]["rows"]:
                        raise BackupRefused(f"{table.name}: {rows[table.name]} rows read, the manifest says "
                                            f"{manifest['tables'][table.name]['rows']}")
                if connection.dialect.name == "postgresql":
                    _reset_sequences(connection, tables)
                for name, target in uploads.items():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(extracted[name], target)
                    written.append(target)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
    return Summary(rows, len(uploads))


def _insert(connection: Connection, table, path: Path) -> int:
    decoders = {column.name: decode for column in table.columns if (decode := _decoder(column)) is not None}
    known = {column.name for column in table.columns}
    count, batch = 0, []
    with path.open("rb") as lines:
        for line in lines:
            row = json.loads(line)
            if set(row) - known:
                raise BackupRefused(f"{table.name}: unknown columns {sorted(set(row) - known)}")
            for name, decode in decoders.items():
                if row.get(name) is not None:
                    row[name] = decode(row[name])
            batch.append(row)
            count += 1
            if len(batch) == BATCH:
                connection.execute(table.insert(), batch)
                batch = []
    if batch:
        connection.execute(table.insert(), batch)
    return count


def _reset_sequences(connection: Connection, tables) -> None:
    """Move each serial key's sequence past the restored rows (inserts gave explicit ids)."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                         {"table": table.name, "column": column.name})
            if sequence is None:
                continue
            connection.execute(text(f'SELECT setval(:sequence, COALESCE((SELECT MAX("{column.name}") '
                                    f'FROM "{table.name}"), 0) + 1, false)'), {"sequence": sequence})
