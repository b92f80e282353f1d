"""Stream rows out of CSV, xlsx and JSON Lines files with flat memory.

Real files: UTF-8 with or without BOM, else windows-1252; ``,`` ``;`` tab or
``|`` separated (sniffed); quoted newlines; German Excel's ``;`` files write
decimal commas. Line numbers are what a text editor or spreadsheet shows:
the header is line 1, a record that spans lines is numbered by its first line.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from stammkunde.core.errors import ApplicationError

FORMATS = ("csv", "xlsx", "jsonl")
SNIFF_BYTES = 64 * 1024
csv.field_size_limit(10 * 1024 * 1024)


class FileError(ApplicationError):
    """The file as a whole cannot be read (encoding, format, header)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="file", field_errors={"file": [message]})


def format_of(file_name: str) -> str:
    """Return ``csv``, ``xlsx`` or ``jsonl`` from the file name's extension."""
    suffix = Path(file_name).suffix.lower().lstrip(".")
    if suffix in {"csv", "txt", "tsv"}:
        return "csv"
    if suffix in {"xlsx", "xlsm"}:
        return "xlsx"
    if suffix in {"jsonl", "ndjson", "json"}:
        return "jsonl"
    raise FileError(f"{file_name}: unknown file type “.{suffix}” (use .csv, .xlsx or .jsonl)")


class _CountingReader(io.RawIOBase):
    """A raw binary stream that counts the bytes handed out (for progress)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def detect_encoding(path: Path) -> str:
    """Return ``utf-8-sig`` when the whole file decodes as UTF-8, else ``cp1252``.

    Reads the file once in blocks (flat memory); windows-1252 is what German
    Excel writes when saving "CSV (Trennzeichen-getrennt)".
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while block := handle.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


@dataclass
class Table:
    """Rows of one file: ``columns`` from the header and ``rows()`` as (line, {column: value})."""

    file_name: str
    fmt: str
    columns: list[str]
    decimal_comma: bool
    _rows: Iterator[tuple[int, dict[str, Any]]]
    _fraction: Any
    _closers: list[Any] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        return self._rows

    def fraction(self) -> float:
        """Return how much of the file has been read, 0..1."""
        return min(1.0, float(self._fraction()))

    def close(self) -> None:
        for closer in self._closers:
            closer()


def open_table(path: str | os.PathLike[str], *, file_name: str | None = None) -> Table:
    """Open a file for streaming; raise FileError for unreadable files."""
    path = Path(path)
    name = file_name or path.name
    if not path.exists():
        raise FileError(f"{name}: file not found")
    fmt = format_of(name)
    if fmt == "xlsx":
        return _open_xlsx(path, name)
    if fmt == "jsonl":
        return _open_jsonl(path, name)
    return _open_csv(path, name)


def _clean_header(values: list[Any], name: str) -> list[str]:
    columns = [str(v).strip() if v is not None else "" for v in values]
    while columns and not columns[-1]:
        columns.pop()
    if not columns or not any(columns):
        raise FileError(f"{name}: the first line must name the columns")
    seen: set[str] = set()
    for col in columns:
        if col and col in seen:
            raise FileError(f"{name}, line 1: column “{col}” appears twice")
        seen.add(col)
    return columns


def _open_csv(path: Path, name: str) -> Table:
    encoding = detect_encoding(path)
    size = max(1, path.stat().st_size)
    with path.open("rb") as probe:
        sample_bytes = probe.read(SNIFF_BYTES)
    sample = sample_bytes.decode(encoding, errors="replace")
    if not sample.strip():
        raise FileError(f"{name}: the file is empty")
    first_line = sample.lstrip("\ufeff").splitlines()[0] if sample.strip() else ""
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        # One column, or the sniffer gave up: take the most frequent candidate in the header.
        delimiter = max(",;\t|", key=first_line.count)
    # The header decides: a delimiter the header does not contain cannot be right.
    if first_line.count(delimiter) == 0 and any(first_line.count(d) for d in ",;\t|"):
        delimiter = max(",;\t|", key=first_line.count)
    counter = _CountingReader(path.open("rb"))
    stream = io.TextIOWrapper(
        io.BufferedReader(counter, buffer_size=1 << 16), encoding=encoding, newline=""
    )
    reader = csv.reader(stream, delimiter=delimiter, quotechar='"', doublequote=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        stream.close()
        raise FileError(f"{name}: cannot read the header ({exc})") from exc
    columns = _clean_header(header, name)
    width = len(columns)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        line = reader.line_num + 1
        try:
            for record in reader:
                start = line
                line = reader.line_num + 1
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                if len(record) > width and any(v.strip() for v in record[width:]):
                    yield (
                        start,
                        {"__error__": f"{len(record)} values but the header names {width} columns"},
                    )
                    continue
                yield start, dict(zip(columns, record, strict=False))
        except csv.Error as exc:
            raise FileError(f"{name}, line {line}: {exc}") from exc
        finally:
            stream.close()

    return Table(
        file_name=name,
        fmt="csv",
        columns=columns,
        decimal_comma=delimiter == ";",
        _rows=rows(),
        _fraction=lambda: counter.count / size,
        _closers=[stream.close],
    )


def _open_jsonl(path: Path, name: str) -> Table:
    size = max(1, path.stat().st_size)
    counter = _CountingReader(path.open("rb"))
    stream = io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig")
    columns: list[str] = []

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw, parse_float=str)
                except json.JSONDecodeError as exc:
                    yield number, {"__error__": f"not valid JSON ({exc.msg})"}
                    continue
                if not isinstance(obj, dict):
                    yield number, {"__error__": "each line must be a JSON object"}
                    continue
                yield number, obj
        except UnicodeDecodeError as exc:
            raise FileError(f"{name}: JSON Lines files must be UTF-8 ({exc})") from exc
        finally:
            stream.close()

    return Table(
        file_name=name,
        fmt="jsonl",
        columns=columns,
        decimal_comma=False,
        _rows=rows(),
        _fraction=lambda: counter.count / size,
        _closers=[stream.close],
    )


def _open_xlsx(path: Path, name: str) -> Table:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as exc:
        raise FileError(f"{name}: not a readable xlsx file ({exc})") from exc
    sheet = book.worksheets[0]
    total = max(1, sheet.max_row or 1)
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = next(iterator)
    except StopIteration as exc:
        book.close()
        raise FileError(f"{name}: the sheet is empty") from exc
    columns = _clean_header(list(header), name)
    position = {"row": 1}

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, values in enumerate(iterator, start=2):
                position["row"] = number
                if values is None or all(v is None or v == "" for v in values):
                    continue
                yield number, dict(zip(columns, values, strict=False))
        finally:
            book.close()

    return Table(
        file_name=name,
        fmt="xlsx",
        columns=columns,
        decimal_comma=False,
        _rows=rows(),
        _fraction=lambda: position["row"] / total,
        _closers=[book.close],
    )
