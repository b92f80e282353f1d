"""Stream rows out of CSV, xlsx and JSON Lines files with flat memory.

Real files: UTF-8, UTF-16 or UTF-32 with or without BOM, else windows-1252 or
latin-1 (detected with charset-normalizer; binary files are refused); ``,`` ``;`` tab or
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
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from stammkunde.core.errors import ApplicationError
from stammkunde.core.inputs import json_problems, max_json_depth

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
    raise FileError(
        _("%(file)s: unknown file type “.%(suffix)s” (use .csv, .xlsx or .jsonl)")
        % {"file": file_name, "suffix": suffix}
    )


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


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts like UTF-16's
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters that do not belong in a text file (tab, LF, CR, form feed and
# the DOS end-of-file mark do); C1 controls are what latin-1 makes of binary bytes.
_BINARY = re.compile("[\x00-\x08\x0b\x0e-\x19\x1b-\x1f\x80-\x9f\ufffd]")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _not_text(name: str) -> FileError:
    return FileError(
        _(
            "%(file)s: this is not a text file (it looks binary); save it as CSV (UTF-8), "
            "JSON Lines or .xlsx"
        )
        % {"file": name}
    )


def _utf8_throughout(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while block := handle.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: Path, name: str | None = None) -> str:
    """Return the file's text encoding; raise FileError for a binary file.

    A byte order mark decides (UTF-8, UTF-16, UTF-32). NUL bytes without one
    mean UTF-16/32 without a mark, or a binary file: charset-normalizer tells
    which. A file that is UTF-8 throughout (read once in blocks, flat memory)
    is UTF-8; anything else is windows-1252 (what German Excel writes, a
    superset of latin-1's printable characters) or latin-1, as
    charset-normalizer finds. A sample that decodes to control characters is
    refused as binary.
    """
    from charset_normalizer import from_bytes

    name = name or path.name
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    encoding = next((enc for bom, enc in _BOMS if head.startswith(bom)), None)
    if encoding is None and b"\x00" in head:
        # UTF-16 text of Latin letters is about half NUL bytes; a stray NUL is binary.
        if head.count(b"\x00") < len(head) // 4:
            raise _not_text(name)
        best = from_bytes(
            head, cp_isolation=["utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"]
        ).best()
        if best is None:
            raise _not_text(name)
        encoding = best.encoding
    if encoding is None:
        if _utf8_throughout(path):
            encoding = "utf-8"
        else:
            best = from_bytes(head, cp_isolation=["cp1252", "latin_1"]).best()
            encoding = best.encoding if best is not None else "latin_1"
    sample = head.decode(encoding, errors="replace")
    sample = sample[:-1] if sample.endswith("\ufffd") else sample  # a cut multi-byte char
    bad = len(_BINARY.findall(sample))
    if "\x00" in sample or bad > max(2, len(sample) // 100):
        raise _not_text(name)
    return encoding


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
        raise FileError(_("%(file)s: file not found") % {"file": name})
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
        raise FileError(_("%(file)s: the first line must name the columns") % {"file": name})
    seen: set[str] = set()
    for col in columns:
        if col and col in seen:
            raise FileError(
                _("%(file)s, line 1: column “%(column)s” appears twice")
                % {"file": name, "column": col}
            )
        seen.add(col)
    return columns


def _open_csv(path: Path, name: str) -> Table:
    encoding = detect_encoding(path, name)
    size = max(1, path.stat().st_size)
    with path.open("rb") as probe:
        sample_bytes = probe.read(SNIFF_BYTES)
    sample = sample_bytes.decode(encoding, errors="replace")
    if not sample.strip():
        raise FileError(_("%(file)s: the file is empty") % {"file": name})
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
    # strict: a quote that is never closed (or text after a closing quote) is an error
    # at the line where its record starts, instead of a field swallowing the next lines.
    reader = csv.reader(stream, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        stream.close()
        raise FileError(
            _("%(file)s: cannot read the header (%(error)s)") % {"file": name, "error": exc}
        ) from exc
    columns = _clean_header(header, name)
    width = len(columns)

    # Made here, in the import's language, not in the thread that reads the rows.
    control = _("contains a control character (e.g. NUL)")

    def too_many(values: int) -> str:
        return ngettext(
            "%(values)d values but the header names %(columns)d column",
            "%(values)d values but the header names %(columns)d columns",
            width,
        ) % {"values": values, "columns": width}

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        line = reader.line_num + 1
        try:
            for record in reader:
                start = line
                line = reader.line_num + 1
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                if _CONTROL.search("".join(record)):
                    # PostgreSQL cannot store a NUL; other control characters are noise.
                    yield start, {"__error__": control}
                    continue
                if len(record) > width and any(v.strip() for v in record[width:]):
                    yield start, {"__error__": too_many(len(record))}
                    continue
                yield start, dict(zip(columns, record, strict=False))
        except csv.Error as exc:
            raise FileError(
                _("%(file)s, line %(line)s: %(error)s")
                % {"file": name, "line": line, "error": _csv_error_text(exc)}
            ) from exc
        except UnicodeDecodeError as exc:
            raise FileError(
                _("%(file)s, after line %(line)s: not readable as %(encoding)s (%(reason)s)")
                % {"file": name, "line": line, "encoding": encoding, "reason": exc.reason}
            ) from exc
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


def _csv_error_text(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text or "expected after" in text:
        return _(
            "a quote opened in this record is not closed properly (%(error)s); "
            "check the quotes from this line on"
        ) % {"error": text}
    return text


def _open_jsonl(path: Path, name: str) -> Table:
    size = max(1, path.stat().st_size)
    encoding = detect_encoding(path, name)
    counter = _CountingReader(path.open("rb"))
    stream = io.TextIOWrapper(io.BufferedReader(counter), encoding=encoding)
    columns: list[str] = []
    # The API's limit (INPUT_MAX_JSON_DEPTH) and the row messages; read and translated
    # here, in the import's language, not in the thread that reads the rows.
    max_depth = max_json_depth()
    too_deep = _("Nested too deeply: at most %(max)d levels.") % {"max": max_depth}
    too_many_digits = _("not valid JSON (a number with too many digits)")
    not_an_object = _("each line must be a JSON object")
    not_json = _("not valid JSON (%(error)s)")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                try:
                    # Exact numbers: 0.1 stays 0.1 and 1.5e2 is 150 (no float rounding);
                    # NaN and Infinity become Decimals that every parser refuses.
                    obj = json.loads(raw, parse_float=Decimal, parse_constant=Decimal)
                except json.JSONDecodeError as exc:
                    yield number, {"__error__": not_json % {"error": exc.msg}}
                    continue
                except ValueError:  # an integer longer than Python converts (4300 digits)
                    yield number, {"__error__": too_many_digits}
                    continue
                except RecursionError:
                    yield number, {"__error__": too_deep}
                    continue
                if not isinstance(obj, dict):
                    yield number, {"__error__": not_an_object}
                    continue
                # A value is at most one level deeper than its brackets: most lines
                # cannot be too deep, and need no walk.
                if raw.count("[") + raw.count("{") >= max_depth and json_problems(
                    obj, max_depth=max_depth, check_text=False
                ):
                    yield number, {"__error__": too_deep}
                    continue
                yield number, obj
        except UnicodeDecodeError as exc:
            raise FileError(
                _("%(file)s: not readable as %(encoding)s (%(reason)s)")
                % {"file": name, "encoding": encoding, "reason": exc.reason}
            ) from exc
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
        raise FileError(
            _("%(file)s: not a readable xlsx file (%(error)s)") % {"file": name, "error": exc}
        ) from exc
    sheet = book.worksheets[0]
    total = max(1, sheet.max_row or 1)
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = next(iterator)
    except StopIteration as exc:
        book.close()
        raise FileError(_("%(file)s: the sheet is empty") % {"file": name}) from exc
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
