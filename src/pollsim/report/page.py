"""The HTML of the report: one self-contained page, readable offline and printable.

Everything the page shows is inside the file: the style sheet is inline, every picture is a PNG
in a ``data:`` URI, and there is no script and no font to fetch. Each section is a
``<section id=...>`` (``summary``, ``queues``, ``waits``, ``devices`` with ``incidents``,
``accounting``, ``reconciliation``, ``reporting``, ``audit``), so a reader can link to one and a
test can find it. Numbers a test checks carry a ``data-key`` attribute and their plain value in
``data-value``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

CSS = """
:root { --ink: #1d2430; --muted: #5b6472; --rule: #d8dde5; --band: #f3f5f8; --flag: #fde2d4; --flag-ink: #8a2a00; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
header { padding: 20px 28px 12px; border-bottom: 3px solid var(--accent); }
header h1 { margin: 0 0 4px; font-size: 23px; }
header p { margin: 0; color: var(--muted); }
nav { padding: 8px 28px; background: var(--band); border-bottom: 1px solid var(--rule); font-size: 14px; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; white-space: nowrap; }
main { padding: 0 28px 40px; max-width: 1240px; }
section { padding-top: 14px; border-bottom: 1px solid var(--rule); padding-bottom: 14px; }
h2 { font-size: 19px; margin: 8px 0 6px; }
h3 { font-size: 16px; margin: 14px 0 6px; }
p.lead { margin: 4px 0 10px; color: var(--muted); max-width: 900px; }
p.note { color: var(--muted); font-size: 13.5px; }
p.empty { padding: 10px 14px; background: var(--band); border-left: 4px solid var(--rule); }
p.warning { padding: 10px 14px; background: #fff4e0; border-left: 4px solid #E69F00; max-width: 900px; }
figure { margin: 8px 0 12px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 3px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
th, td { border: 1px solid var(--rule); padding: 3px 7px; text-align: right; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.text, th.text { text-align: left; }
td.text { white-space: nowrap; }
table.facts th { text-align: left; white-space: nowrap; }
table.facts td { text-align: left; min-width: 10em; }
tr.flagged td { background: #fff4ee; }
td.flag { background: var(--flag); color: var(--flag-ink); font-weight: 700; }
tr.total td { font-weight: 700; background: var(--band); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12.5px; font-weight: 700; }
.badge.ok { background: #d9f2e6; color: #0b5d3b; }
.badge.bad { background: var(--flag); color: var(--flag-ink); }
details { margin: 6px 0 12px; }
summary { cursor: pointer; color: var(--accent); }
.scroll { overflow-x: auto; }
@media print { nav { display: none; } section { break-inside: avoid-page; } }
"""


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: str


def text(value: object) -> str:
    return escape(str(value), quote=True)


def number(value: float | str, decimals: int = 0) -> str:
    """1,234 (or 12.5 with ``decimals``); strings pass through."""
    if isinstance(value, str):
        return value
    if decimals == 0:
        return f"{round(value):,}"
    return f"{value:,.{decimals}f}"


def fact_table(rows: Iterable[tuple[str, str, object, str]]) -> str:
    """A two-column table of (key, label, plain value, shown text); ``data-key``/``data-value`` per row."""
    out = ['<table class="facts">']
    for key, label, value, shown in rows:
        out.append(f'<tr data-key="{text(key)}" data-value="{text(value)}"><th>{text(label)}</th><td>{shown}</td></tr>')
    out.append("</table>")
    return "\n".join(out)


def data_table(header: Sequence[str], rows: Iterable[Sequence[object]], *, text_columns: int = 1, row_class: Sequence[str] | None = None,
               cell_class: Sequence[Sequence[str]] | None = None, table_id: str = "") -> str:  # fmt: skip
    """A plain table; the first ``text_columns`` columns are left-aligned; classes per row/cell."""
    ident = f' id="{text(table_id)}"' if table_id else ""
    out = [f'<div class="scroll"><table{ident}><thead><tr>']
    out += [f'<th class="text">{text(h)}</th>' if i < text_columns else f"<th>{text(h)}</th>" for i, h in enumerate(header)]
    out.append("</tr></thead><tbody>")
    for r, row in enumerate(rows):
        cls = f' class="{row_class[r]}"' if row_class and row_class[r] else ""
        out.append(f"<tr{cls}>")
        for i, cell in enumerate(row):
            classes = (["text"] if i < text_columns else []) + ([cell_class[r][i]] if cell_class and cell_class[r][i] else [])
            c = f' class="{" ".join(classes)}"' if classes else ""
            out.append(f"<td{c}>{text(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def image(png: bytes, alt: str, caption: str = "", name: str = "") -> str:
    """A PNG embedded as a data: URI, with its pixel size (read from the PNG header)."""
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    ident = f' data-plot="{text(name)}"' if name else ""
    return f'<figure><img{ident} src="data:image/png;base64,{data}" width="{width}" height="{height}" alt="{text(alt)}">{cap}</figure>'


def paragraph(html: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<p{c}>{html}</p>"


def page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    nav = "\n".join(f'<a href="#{s.id}">{text(s.title)}</a>' for s in sections)
    body = "\n".join(f'<section id="{s.id}">\n<h2>{text(s.title)}</h2>\n{s.body}\n</section>' for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{text(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<header><h1>{text(title)}</h1><p>{subtitle}</p></header>\n"
        f"<nav>{nav}</nav>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
