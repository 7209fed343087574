"""Downloads of a relation search: CSV for Excel and XLSX (ARCHITECTURE "Safety").

CSV is UTF-8 with a BOM (so Excel reads the accents), `;`-separated (the Dutch Excel default),
dates dd-mm-jjjj, and a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
leading `'` so a spreadsheet never runs it as a formula. In XLSX every text is written as a text
cell, which Excel never evaluates, so the value stays as it was typed; dates are real dates shown
dd-mm-jjjj. Both read the rows in chunks of 2,000, so a large export never holds the whole result
in memory. Every export of personal data is logged (who, environment, what, rows) through
`relations.services.export_log_record`. The `*_write` functions write to a file and report
progress, for the background exports of the selection wizards. What a column needs loaded
alongside beyond the card itself (current memberships) comes from the app that knows it, through
`column_data_register` (for models) and `column_values_register` (for value tuples).

The export of a relation search reads value tuples, not models (`ExportRows`): one query with the
joins and subqueries the columns need, read in chunks from a server-side cursor, each column's
getter and cell formatting worked out once per export. Building a `Relation` per row (and a
`Function` and `Tenant` per membership) cost ten times the rest (docs/benchmarks.md, bench_export).
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import logging
import tempfile
from collections.abc import Callable, Hashable, Iterable, Iterator
from types import SimpleNamespace
from typing import IO, Any

from django.db import models, router
from django.db.models import Expression, F, QuerySet
from django.db.models.functions import Cast
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from tenants.compiled import CompiledQueries
from tenants.models import Tenant, User

from .filters import Column, as_text
from .models import ExportLog, Relation
from .services import export_log_record

logger = logging.getLogger("ledenbeheer.exports")

CHUNK_SIZE = 2000
STREAM_ROWS = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)
BOM = "\ufeff"


def csv_cell(value: Any) -> str:
    """A value as a CSV cell for Excel: dd-mm-jjjj dates, and formula-like text made harmless."""
    if type(value) is str:  # most cells: the quick way
        return "'" + value if value[:1] in FORMULA_FIRST else value
    text = as_text(value)
    # A number (a negative amount, say) is no formula: only text is made harmless.
    if text.startswith(FORMULA_STARTS) and not isinstance(value, int | float | decimal.Decimal):
        return "'" + text
    return text


ColumnData = Callable[[QuerySet[Relation], Tenant], QuerySet[Relation]]
_column_data: dict[str, ColumnData] = {}


def column_data_register(needs: str, load: ColumnData) -> None:
    """`load(queryset, tenant)` adds what columns with `needs=<needs>` read (memberships
    registers "memberships", a prefetch of the current memberships)."""
    _column_data[needs] = load


def with_column_data(queryset: QuerySet[Relation], columns: list[Column], tenant: Tenant) -> QuerySet[Relation]:
    """The queryset with what the columns need loaded alongside (a join or one prefetch query per
    chunk of rows)."""
    needs = {c.needs for c in columns}
    if "tenant" in needs:
        queryset = queryset.select_related("tenant")
    for need in sorted(needs & _column_data.keys()):
        queryset = _column_data[need](queryset, tenant)
    return queryset


ColumnValues = Callable[[Tenant, str], Expression | None]
_column_values: dict[str, ColumnValues] = {}


def column_values_register(needs: str, expression: ColumnValues) -> None:
    """`expression(tenant, db)`: what columns with `needs=<needs>` and no `path` show, as an
    expression on the outer relation (memberships registers "memberships", the names of the
    current memberships as one text), for exports that read value tuples; None where database
    `db` cannot give it exactly as the column shows it (that export then reads models).

    What it gives may depend only on the environment's place in the tree, the database and the
    day: it is kept per those (`_column_value`)."""
    _column_values[needs] = expression
    _column_value_kept.clear()


# The expressions of `_column_values`, per (needs, environment path, database, day): building the
# memberships' subquery cost a search page 0.3 ms. A query copies an expression it uses and never
# changes it, so one serves every query.
_column_value_kept: dict[tuple, Expression | None] = {}


def _column_value(needs: str, tenant: Tenant, db: str) -> Expression | None:
    key = (needs, tenant.path, db, datetime.date.today())
    if key not in _column_value_kept:
        if len(_column_value_kept) >= 1000:
            _column_value_kept.clear()
        _column_value_kept[key] = _column_values[needs](tenant, db)
    return _column_value_kept[key]


# The CSV format of a text cell: checked inline in ExportRows.csv_cells, not by a call per cell.
TEXT = object()


def _date_cell(value: datetime.date | None) -> str:
    """dd-mm-jjjj like as_text, from isoformat(): strftime costs seven times as much."""
    if value is None:
        return ""
    if value.year < 1000:  # strftime writes such a year without leading zeros
        return value.strftime("%d-%m-%Y")
    iso = value.isoformat()
    return f"{iso[8:10]}-{iso[5:7]}-{iso[:4]}"


def _as_csv_cell(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """csv_cell(convert(value)), remembered per value: a choice column has a handful of codes."""
    known: dict[Any, Any] = {}

    def cell(value: Any) -> Any:
        try:
            return known[value]
        except KeyError:
            made = csv_cell(convert(value))
            if len(known) < 1000:  # a column of many different values gains nothing from it
                known[value] = made
            return made
        except TypeError:  # not hashable: made every time
            return csv_cell(convert(value))

    return cell


def _model_field(model: type[models.Model], path: str) -> models.Field | None:
    """The model field at the end of a `values()` path (`tenant__name`), None for anything else."""
    *hops, name = path.split("__")
    try:
        for hop in hops:
            model = model._meta.get_field(hop).related_model
        return model._meta.get_field(name)
    except (AttributeError, LookupError):
        return None


def _csv_format(field: models.Field | None) -> Any:
    """How a value of `field` becomes a CSV cell exactly as csv_cell makes it; None where
    csv.writer already writes it so (a whole number, or None as an empty cell)."""
    if isinstance(field, models.CharField | models.TextField):
        return TEXT  # None stays None: csv.writer writes it as an empty cell, as csv_cell does
    if isinstance(field, models.DateField):
        return _date_cell
    if isinstance(field, models.IntegerField):
        return None
    return csv_cell


def _from_json(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """convert() of a JSON field's value read as text, decoded as Django's JSONField does."""

    def read(text: str | None) -> Any:
        value = None if text is None else json.loads(text)
        return value if convert is None else convert(value)

    return read


class ExportRows:
    """The rows of a relation export read as value tuples: one query (`values_list` with the
    joins and the subqueries the columns need) read in chunks from a server-side cursor, so the
    number of queries does not grow with the number of rows. The query selects one value per
    column, in the columns' order; how each becomes its cell is worked out once, here. When a
    column cannot be read as a value (it has no `path` and nobody registered its `needs`, or the
    database cannot say it the same way), the export reads models as before, with what the
    columns need loaded alongside per chunk."""

    def __init__(self, queryset: QuerySet[Relation], columns: list[Column], tenant: Tenant):
        self.queryset, self.columns, self.tenant = queryset, columns, tenant
        # What the query selects, by name: a field's path (None) or an annotation.
        self.selected: dict[str, Expression | None] = {}
        # Per column: from the value read to the cell `column.value` gives, and to its CSV cell
        # (None: as it is; TEXT: text made harmless). `reads` is None when models are read.
        self.reads: list[Callable[[Any], Any] | None] | None = []
        self.formats: list[Any] = []
        for number, column in enumerate(columns):
            name, expression, read = column.path, None, column.convert
            field = _model_field(queryset.model, column.path) if column.path else None
            if isinstance(field, models.JSONField):
                # Read as its text and decoded here: Django's converter per row cost half as much
                # as reading the rest of the row; a column of few values is formatted once each.
                name, expression, read = f"export_{number}", Cast(column.path, models.TextField()), _from_json(read)
                cell_format = _as_csv_cell(read)
            elif column.path:
                if name in self.selected:  # a second column of the same field
                    name, expression = f"export_{number}", F(column.path)
                cell_format = _as_csv_cell(read) if read is not None else _csv_format(field)
            elif column.needs in _column_values:
                # A registered expression: text (or NULL); None where the database cannot.
                expression = _column_value(column.needs, tenant, queryset.db)
                name, cell_format = f"export_{number}" if expression is not None else "", TEXT
            if not name:
                self.reads = None  # read models
                break
            self.selected[name] = expression
            self.reads.append(read)
            self.formats.append(cell_format)

    def values_query(self, leading: list[str] | tuple[str, ...] = ()) -> tuple[QuerySet, list[str]]:
        """The query of the tuples and the names of their values: the fields named in `leading`
        (those not already selected), then one value per column in the columns' order."""
        annotations = {name: e for name, e in self.selected.items() if e is not None}
        names = self.value_names(leading)
        return self.queryset.prefetch_related(None).annotate(**annotations).values_list(*names), names

    def value_names(self, leading: list[str] | tuple[str, ...] = ()) -> list[str]:
        """The names of the values `values_query(leading)` selects, in their order."""
        return [*(f for f in leading if f not in self.selected), *self.selected]

    def _tuples(self) -> Iterator[tuple]:
        query, _names = self.values_query()
        return query.iterator(chunk_size=CHUNK_SIZE)

    def _models(self) -> Iterator[Relation]:
        queryset = with_column_data(self.queryset.defer("search_text"), self.columns, self.tenant)
        return queryset.iterator(chunk_size=CHUNK_SIZE)

    def values(self) -> Iterator[list[Any]]:
        """Every row's cells as the columns' `value` gives them (for XLSX)."""
        if self.reads is None:
            for relation in self._models():
                yield [column.value(relation) for column in self.columns]
            return
        reads = self.reads
        for row in self._tuples():
            yield [v if read is None else read(v) for read, v in zip(reads, row, strict=True)]

    def csv_cells(self) -> Iterator[list[Any]]:
        """Every row's cells as csv_cell makes them (or as csv.writer writes them the same)."""
        if self.reads is None:
            for relation in self._models():
                yield [csv_cell(column.value(relation)) for column in self.columns]
            return
        formats, first = self.formats, FORMULA_FIRST
        for row in self._tuples():
            yield [
                v if f is None else ("'" + v if v and v[0] in first else v) if f is TEXT else f(v)
                for f, v in zip(formats, row, strict=True)
            ]


class ListedRelation(SimpleNamespace):
    """A row of the relation list read as values (`ListedRows`): the fields of LISTED_FIELDS,
    the card's name as Relation words it, and `values`, the cells as the columns' `value` gives
    them."""

    display_name = Relation.display_name
    sort_name = Relation.sort_name


# What a row of the list reads besides its columns: its id and what its name is made of.
LISTED_FIELDS = ("pk", "kind", "first_name", "initials", "infix", "last_name", "organisation_name")


class ListedRows:
    """The rows of one page of the relation list (`prepare` of relations.paging.search_page), read
    in one query of value tuples like the exports: building a `Relation` per row, and a `Function`
    and `Tenant` per membership in a second query, cost more than the page's search. A column read
    from the card's name (no `path`, nothing loaded alongside) is worked out from LISTED_FIELDS.
    Where a column cannot be read as a value, models, with what the columns need loaded alongside.

    Called with an ordered queryset it reads that. `by_ids` reads a page given by its ids in an
    order named by `order_key`: that query has the same SQL for every page of the same columns,
    environment, day and order, so its SQL is compiled once (tenants/compiled.py) and the ids are
    put in, which saves building the columns' joins and subqueries on every search (about 1 ms)."""

    def __init__(self, columns: list[Column], tenant: Tenant):
        self.columns, self.tenant = columns, tenant
        self.from_row = [not column.path and not column.needs for column in columns]
        self.read_columns = [c for c, own in zip(columns, self.from_row, strict=True) if not own]

    def __call__(self, queryset: QuerySet[Relation]) -> list:
        reader = ExportRows(queryset, self.read_columns, self.tenant)
        if reader.reads is None:
            return self._models(queryset)
        query, names = reader.values_query(LISTED_FIELDS)  # a page of rows: read at once, not from a cursor
        return self._listed(reader, names, query)

    def by_ids(self, ids: list[int], build: Callable[[Any], QuerySet[Relation]], order_key: Hashable) -> list:
        """The rows of `build(ids)`: the relations of `ids` (given as `pk__in_list=ids`) in the
        order `order_key` names (the same key, the same order)."""
        db = router.db_for_read(Relation)
        reader = ExportRows(Relation.objects.using(db), self.read_columns, self.tenant)
        if reader.reads is None:
            return self._models(build(ids))
        names = reader.value_names(LISTED_FIELDS)
        key = (
            tuple((c.key, c.path, c.needs) for c in self.read_columns), self.tenant.path,
            datetime.date.today(), order_key,
        )
        rows = _page_queries.rows(
            key,
            lambda ids: ExportRows(build(ids), self.read_columns, self.tenant).values_query(LISTED_FIELDS)[0],
            db,
            arrays={"ids": ids},
        )
        return self._listed(reader, names, rows)

    def _models(self, queryset: QuerySet[Relation]) -> list:
        relations = list(with_column_data(queryset.defer("search_text"), self.columns, self.tenant))
        for relation in relations:
            relation.values = [column.value(relation) for column in self.columns]
        return relations

    def _listed(self, reader: ExportRows, names: list[str], value_rows: Iterable[tuple]) -> list:
        position = {name: i for i, name in enumerate(names)}
        listed = [position[f] for f in LISTED_FIELDS]
        first_read = len(names) - len(reader.selected)
        rows = []
        for values in value_rows:
            row = ListedRelation(**{f: values[i] for f, i in zip(LISTED_FIELDS, listed, strict=True)})
            read_values = iter(zip(reader.reads, values[first_read:], strict=True))
            row.values = []
            for column, own in zip(self.columns, self.from_row, strict=True):
                if own:
                    row.values.append(column.value(row))
                else:
                    read, value = next(read_values)
                    row.values.append(value if read is None else read(value))
            rows.append(row)
        return rows


# The SQL of a page of the relation list read by its ids, per columns, environment, day and order.
_page_queries = CompiledQueries()


def _rows(rows: QuerySet | Iterable, columns: list[Column]) -> Iterator[list[Any]]:
    """The cells of every row; a queryset is read in chunks (with its prefetches per chunk)."""
    if isinstance(rows, ExportRows):
        yield from rows.values()
        return
    objects = rows.iterator(chunk_size=CHUNK_SIZE) if isinstance(rows, QuerySet) else rows
    for obj in objects:
        yield [column.value(obj) for column in columns]


def _csv_rows(rows: QuerySet | Iterable, columns: list[Column]) -> Iterator[list[Any]]:
    """The CSV cells of every row."""
    if isinstance(rows, ExportRows):
        return rows.csv_cells()
    return ([csv_cell(v) for v in row] for row in _rows(rows, columns))


def _csv_blocks(rows: Iterator[list[Any]], block_rows: int) -> Iterator[tuple[str, int]]:
    """The CSV lines of `rows` in blocks of `block_rows` rows, with the number of rows in each:
    csv.writer writes a whole block at once into a buffer (one call per block, not per row)."""
    buffer = io.StringIO()
    writer = _csv_writer(buffer)
    block: list[list[Any]] = []
    for row in rows:
        block.append(row)
        if len(block) >= block_rows:
            writer.writerows(block)
            yield buffer.getvalue(), len(block)
            buffer.seek(0)
            buffer.truncate()
            block = []
    if block:
        writer.writerows(block)
        yield buffer.getvalue(), len(block)


def _log(*, actor: User, tenant: Tenant, fmt: str, rows: int | None, what: str | None = None) -> ExportLog:
    """The export in the export log and the application's log; `rows` None: a stream that starts
    (its count follows, `_log_streamed`)."""
    what = what or gettext("Relation search")
    _log_line(actor=actor, tenant=tenant, fmt=fmt, rows=rows, what=what)
    return export_log_record(user=actor, tenant=tenant, what=what, fmt=fmt, rows=rows or 0)


def _log_line(*, actor: User, tenant: Tenant, fmt: str, rows: int | None, what: str) -> None:
    extra = {"user_id": actor.pk, "username": actor.username, "tenant_id": tenant.pk, "format": fmt, "rows": rows}
    if rows is None:
        logger.info("%s starts exporting relations as %s from %s (%s)", actor.username, fmt, tenant.name, what, extra=extra)
    else:
        logger.info("%s exported %d relations as %s from %s (%s)", actor.username, rows, fmt, tenant.name, what, extra=extra)


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_writer(output) -> Any:
    return csv.writer(output, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def csv_stream(
    queryset: QuerySet[Relation] | Iterable, columns: list[Column], *, actor: User, tenant: Tenant,
    what: str | None = None,
) -> Iterator[bytes]:
    """The export as CSV, produced row by row for a StreamingHttpResponse."""
    writer = _csv_writer(_Echo())
    count = 0
    # Logged when the download starts, before the first byte leaves: a download that is broken
    # off (or whose process dies) is in the export log all the same. Its row count is written
    # when the stream ends.
    log = _log(actor=actor, tenant=tenant, fmt="csv", rows=None, what=what)
    try:
        yield (BOM + writer.writerow([csv_cell(c.label) for c in columns])).encode("utf-8")
        # Sent in blocks of STREAM_ROWS rows: one write to the socket per row costs more than
        # the row itself.
        for text, rows in _csv_blocks(_csv_rows(queryset, columns), STREAM_ROWS):
            count += rows
            yield text.encode("utf-8")
    finally:
        ExportLog.objects.filter(pk=log.pk).update(rows=count)
        _log_line(actor=actor, tenant=tenant, fmt="csv", rows=count, what=log.what)


def csv_write(
    output: IO[str], queryset: QuerySet | Iterable, columns: list[Column],
    progress: Callable[[int], None] | None = None,
) -> int:
    """The export as CSV into a text file opened with newline=""; returns the number of rows.
    `progress` hears the count every CHUNK_SIZE rows."""
    writer = _csv_writer(output)
    output.write(BOM)
    writer.writerow([csv_cell(c.label) for c in columns])
    count = 0
    for text, rows in _csv_blocks(_csv_rows(queryset, columns), CHUNK_SIZE):
        output.write(text)
        count += rows
        if progress and rows == CHUNK_SIZE:
            progress(count)
    return count


def _xlsx_cell(sheet, value: Any, *, date_format: str = "DD-MM-YYYY"):
    """A value for a write-only sheet: plain where openpyxl writes it as it is (most cells: a
    plain value costs a third less than a cell object), a cell where it needs a format or must
    not become a formula."""
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = date_format
        return cell
    if isinstance(value, bool) or value is None:
        return as_text(value)
    if isinstance(value, int | float | decimal.Decimal):
        return value
    text = as_text(value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text.startswith("="):
        # openpyxl takes text starting with "=" for a formula; a text cell is never evaluated.
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"
        return cell
    return text


# Excel refuses these in a sheet's name, a name longer than 31 characters, and an apostrophe at
# either end; a wizard's name may hold any of them.
SHEET_TITLE_FORBIDDEN = str.maketrans("", "", "\\/?*[]:")


def sheet_title(title: str) -> str:
    """`title` as a name Excel accepts for a sheet; never empty."""
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", str(title)).translate(SHEET_TITLE_FORBIDDEN)
    return cleaned.strip().strip("'")[:31].strip() or "Export"


def xlsx_write(
    output: IO[bytes] | str, queryset: QuerySet | Iterable, columns: list[Column], *, title: str = "Relaties",
    progress: Callable[[int], None] | None = None,
) -> int:
    """The export as an XLSX workbook (openpyxl write-only mode, rows streamed to a temporary
    file) saved to `output`; returns the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(title))
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", as_text(column.label)))
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in _rows(queryset, columns):
        sheet.append([_xlsx_cell(sheet, v) for v in row])
        count += 1
        if progress and count % CHUNK_SIZE == 0:
            progress(count)
    workbook.save(output)
    return count


def xlsx_file(
    queryset: QuerySet[Relation] | Iterable, columns: list[Column], *, actor: User, tenant: Tenant,
    title: str = "Relaties", what: str | None = None,
) -> IO[bytes]:
    """The export as an XLSX workbook in a temporary file, rewound."""
    output = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (the response closes it)
    count = xlsx_write(output, queryset, columns, title=title)
    output.seek(0)
    _log(actor=actor, tenant=tenant, fmt="xlsx", rows=count, what=what)
    return output


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_response(
    rows: QuerySet | Iterable, columns: list[Column], *, fmt: str, actor: User, tenant: Tenant, filename: str,
    title: str, what: str | None = None,
) -> HttpResponseBase:
    """The download of an export as the browser gets it: CSV streamed row by row, XLSX as a
    file; `filename` without its extension. Either way the export is logged."""
    name = f"{filename}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_stream(rows, columns, actor=actor, tenant=tenant, what=what), content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(
        xlsx_file(rows, columns, actor=actor, tenant=tenant, title=title, what=what),
        as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE,
    )
