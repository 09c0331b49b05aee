"""A small allow-list HTML sanitiser for the email nodes' ``sanitizedHtml``.

Alga runs email HTML through its ``sanitizeEmailHtml`` (DOMPurify) before storing it in the payload.
We keep formatting tags and safe attributes, drop scripts, styles, event handlers and
``javascript:``-style URLs, and escape all text, so the result is safe to render.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "col",
        "colgroup",
        "dd",
        "div",
        "dl",
        "dt",
        "em",
        "font",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    ]
)
VOID_TAGS = frozenset({"br", "col", "hr", "img"})
DROP_CONTENT = frozenset(
    {"script", "style", "head", "title", "iframe", "object", "embed", "template"}
)
ALLOWED_ATTRS = frozenset(
    [
        "align",
        "alt",
        "border",
        "cellpadding",
        "cellspacing",
        "colspan",
        "color",
        "dir",
        "height",
        "href",
        "lang",
        "rowspan",
        "src",
        "title",
        "valign",
        "width",
    ]
)
SAFE_SCHEMES = ("http:", "https:", "mailto:", "cid:", "tel:")


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT:
            if tag not in VOID_TAGS:
                self.skipping.append(tag)
            return
        if self.skipping or tag not in ALLOWED_TAGS:
            return
        kept = "".join(
            f' {name}="{escape(value or "", quote=True)}"'
            for name, value in attrs
            if name in ALLOWED_ATTRS and _safe_value(name, value or "")
        )
        self.out.append(f"<{tag}{kept}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ALLOWED_TAGS and tag not in VOID_TAGS and not self.skipping:
            self.out.append(f"</{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag in ALLOWED_TAGS and tag not in VOID_TAGS:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(escape(data, quote=False))


def _safe_value(name: str, value: str) -> bool:
    if name not in ("href", "src"):
        return True
    compact = "".join(value.split()).lower()
    return ":" not in compact.split("/")[0] or compact.startswith(SAFE_SCHEMES)


def sanitize_html(html: str | None) -> str | None:
    """Allow-listed HTML, or ``None`` when there is nothing (Alga: ``undefined``)."""
    if not html:
        return None
    parser = _Sanitizer()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)
