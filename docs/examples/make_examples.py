"""Write the example import files of docs/data-in-out.md (run once; the output is committed).

    .venv/bin/python docs/examples/make_examples.py

Import order: products, customers, orders, returns, subscriptions.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent


def products_german_excel() -> None:
    """windows-1252, ``;``, decimal commas with thousands dots: what German Excel saves."""
    rows = [
        ("Artikelnummer", "Bezeichnung", "Warengruppe", "Preis", "Dienstleistung"),
        ("RAD-CITY-28", 'Citybike Straße 28"', "Fahrräder", "1.299,00", "nein"),
        ("RAD-EBIKE-01", "E-Bike Trekking Größe M", "Fahrräder", "2.849,90", "nein"),
        ("ZB-HELM-01", "Fahrradhelm Urban", "Zubehör", "59,90", "nein"),
        ("ZB-SCHLOSS-02", "Bügelschloss", "Zubehör", "34,95", "nein"),
        ("WS-INSPEKTION", "Inspektion (Werkstatt)", "Werkstatt", "89,00", "ja"),
        ("WS-SCHLAUCH", "Schlauchwechsel", "Werkstatt", "15,50", "ja"),
    ]
    text = "\r\n".join(";".join(r) for r in rows) + "\r\n"
    (HERE / "produkte_excel.csv").write_bytes(text.encode("cp1252"))


def customers_xlsx() -> None:
    """An Excel sheet with date cells, as a POS or ERP exports it."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Kunden"
    sheet.append(
        [
            "Kunden-ID",
            "Anrede",
            "Vorname",
            "Nachname",
            "Firma",
            "E-Mail",
            "Telefon",
            "Straße",
            "PLZ",
            "Ort",
            "Geburtstag",
            "Kunde seit",
        ]
    )
    people = [
        (
            "POS-1001",
            "Frau",
            "Erika",
            "Mustermann",
            "",
            "erika.mustermann@example.de",
            "0170 1234567",
            "Hauptstraße 5",
            "50667",
            "Köln",
            date(1980, 4, 12),
        ),
        (
            "POS-1002",
            "Herr",
            "Jürgen",
            "Weiß",
            "",
            "j.weiss@example.de",
            "0221 987654",
            "Ringstraße 12",
            "50674",
            "Köln",
            date(1975, 11, 3),
        ),
        (
            "POS-1003",
            "",
            "",
            "",
            "Radkurier Rhein GmbH",
            "info@radkurier.example",
            "+49 221 555010",
            "Industriestraße 40",
            "50735",
            "Köln",
            None,
        ),
        (
            "POS-1004",
            "Frau",
            "Ayşe",
            "Yılmaz",
            "",
            "ayse.yilmaz@example.de",
            "",
            "Venloer Str. 200",
            "50823",
            "Köln",
            date(1992, 7, 30),
        ),
        # The shop knows her as SHOP-77 (customers_shop.csv): a duplicate to merge.
        (
            "POS-1005",
            "Frau",
            "Erika",
            "Musterman",
            "",
            "ERIKA.MUSTERMANN@example.de",
            "+49 170 1234567",
            "Hauptstr. 5",
            "50667",
            "Köln",
            None,
        ),
    ]
    for ext, sal, first, last, company, email, phone, street, plz, city, birthday in people:
        sheet.append(
            [
                ext,
                sal,
                first,
                last,
                company,
                email,
                phone,
                street,
                plz,
                city,
                birthday,
                datetime(2023, 5, 2, 9, 30),
            ]
        )
    book.save(HERE / "kunden.xlsx")


def customers_shop_csv() -> None:
    """UTF-8 with BOM, comma separated, a quoted newline inside the street."""
    text = (
        "external_id,first_name,last_name,email,phone,street,postal_code,city,created_at\r\n"
        'SHOP-77,Erika,Mustermann,erika.mustermann@example.de,,"Hauptstraße 5\r\nHinterhaus",'
        "50667,Köln,2024-02-01T10:15:00+01:00\r\n"
        "SHOP-78,Lukas,Schäfer,lukas.schaefer@example.de,+49 151 22334455,Aachener Str. 1,"
        "50674,Köln,2024-03-09T18:02:00+01:00\r\n"
    )
    (HERE / "customers_shop.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def orders_german_excel() -> None:
    """One row per order line; ``;``, decimal commas, dd.mm.yyyy dates, windows-1252."""
    rows = [
        (
            "Bestellnummer",
            "Kunden-ID",
            "Bestelldatum",
            "Kanal",
            "Artikelnummer",
            "Menge",
            "Einzelpreis",
            "Gesamt",
        ),
        (
            "B-2024-0001",
            "POS-1001",
            "03.06.2024 10:12",
            "Filiale",
            "RAD-CITY-28",
            "1",
            "1.199,00",
            "1.258,90",
        ),
        (
            "B-2024-0001",
            "POS-1001",
            "03.06.2024 10:12",
            "Filiale",
            "ZB-HELM-01",
            "1",
            "59,90",
            "1.258,90",
        ),
        ("B-2024-0002", "POS-1002", "15.06.2024", "Filiale", "WS-INSPEKTION", "1", "", ""),
        ("B-2024-0003", "POS-1003", "01.07.2024 08:00", "ERP", "ZB-SCHLOSS-02", "12", "29,95", ""),
        ("B-2024-0004", "POS-1004", "20.07.2024 16:45", "Filiale", "RAD-EBIKE-01", "1", "", ""),
        ("B-2024-0004", "POS-1004", "20.07.2024 16:45", "Filiale", "ZB-HELM-01", "2", "", ""),
    ]
    text = "\r\n".join(";".join(r) for r in rows) + "\r\n"
    (HERE / "bestellungen_excel.csv").write_bytes(text.encode("cp1252"))


def orders_broken() -> None:
    """The same layout with broken rows: every error is reported with line and column."""
    rows = [
        (
            "Bestellnummer",
            "Kunden-ID",
            "Bestelldatum",
            "Artikelnummer",
            "Menge",
            "Einzelpreis",
            "Gesamt",
        ),
        ("B-2024-0100", "POS-1001", "01.08.2024", "ZB-HELM-01", "1", "59,90", ""),  # good
        ("B-2024-0101", "POS-9999", "02.08.2024", "ZB-HELM-01", "1", "", ""),  # unknown customer
        ("B-2024-0102", "POS-1002", "31.02.2024", "ZB-HELM-01", "1", "", ""),  # no such date
        ("B-2024-0103", "POS-1002", "03.08.2024", "GIBTS-NICHT", "1", "", ""),  # unknown SKU
        ("B-2024-0104", "POS-1003", "04.08.2024", "ZB-HELM-01", "0", "", ""),  # quantity 0
        ("B-2024-0105", "POS-1004", "05.08.2024", "ZB-HELM-01", "2", "59,90", "100,00"),  # total
        ("B-2024-0106", "POS-1004", "06.08.2024", "ZB-SCHLOSS-02", "1", "zwölf", ""),  # price
        ("B-2024-0107", "POS-1002", "07.08.2024", "WS-SCHLAUCH", "1", "", ""),  # good
    ]
    text = "\r\n".join(";".join(r) for r in rows) + "\r\n"
    (HERE / "bestellungen_fehlerhaft.csv").write_bytes(text.encode("cp1252"))


def orders_jsonl() -> None:
    """The shop's JSON export: one order per line with nested lines, ISO times."""
    orders = [
        {
            "external_id": "SHOP-O-5001",
            "customer_external_id": "SHOP-78",
            "ordered_at": "2024-08-10T19:22:00+02:00",
            "channel": "shop",
            "lines": [
                {"sku": "ZB-HELM-01", "quantity": 1, "unit_price": "54.90"},
                {"sku": "WS-SCHLAUCH", "quantity": 2},
            ],
        },
        {
            "external_id": "SHOP-O-5002",
            "customer_external_id": "SHOP-77",
            "ordered_at": "2024-09-01T08:05:00+02:00",
            "channel": "shop",
            "lines": [{"sku": "ZB-SCHLOSS-02", "quantity": 1}],
        },
    ]
    text = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in orders)
    (HERE / "orders_shop.jsonl").write_text(text, encoding="utf-8")


def returns_jsonl() -> None:
    returns = [
        {
            "external_id": "RET-1",
            "order_external_id": "B-2024-0004",
            "sku": "ZB-HELM-01",
            "quantity": 1,
            "reason": "size",
            "returned_at": "2024-07-29T11:00:00+02:00",
        },
    ]
    text = "".join(json.dumps(r) + "\n" for r in returns)
    (HERE / "returns.jsonl").write_text(text, encoding="utf-8")


def subscriptions_csv() -> None:
    text = (
        "Abo-ID;Kunden-ID;Tarif;Monatsbetrag;Beginn;Ende;Kündigungsgrund\r\n"
        "ABO-1;POS-1003;Werkstatt-Flatrate Flotte;149,00;01.01.2024;;\r\n"
        'ABO-2;POS-1001;Inspektions-Abo;9,90;01.03.2024;28.02.2025;"zu teuer\r\nzieht weg"\r\n'
    )
    (HERE / "abos_excel.csv").write_bytes(text.encode("cp1252"))


if __name__ == "__main__":
    products_german_excel()
    customers_xlsx()
    customers_shop_csv()
    orders_german_excel()
    orders_broken()
    orders_jsonl()
    returns_jsonl()
    subscriptions_csv()
    print(f"examples written to {HERE}")
