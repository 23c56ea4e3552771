"""Reading a YAML file safely: plain data plus the line of every node, or one located problem.

A scenario file is written by hand and may be anything: a binary, /dev/zero, a 3,000-level
nesting, an alias bomb, a key that is a list. Whatever it is, reading it ends quickly with either
the data or a :class:`YamlProblem` naming the line (issue 13: no traceback, no hang). Limits:
at most ``MAX_BYTES`` read, ``MAX_DEPTH`` levels of nesting, ``MAX_NODES`` values once aliases
are expanded, no alias that contains itself.

Scalars are read as YAML 1.1 (PyYAML's safe loader) with two YAML 1.2 readings that spare a
hand-written file surprises: an unquoted time such as ``19:00`` stays the text "19:00" (YAML 1.1
reads it as the base-60 number 1140), and ``1e-3`` is the number 0.001 (YAML 1.1: text).
Merge keys (``<<: *defaults``) are supported; keys given in the mapping win over merged ones.
No section of the Miss. Code governs reading a file; the fields it carries follow §23-15-581 and
§23-15-615 (pollsim.scenario.models).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 2 * 1024 * 1024
"""Largest scenario file read: a statewide scenario listing all 1,765 precincts is under 1 MiB."""
MAX_DEPTH = 64
"""Deepest nesting: a scenario's deepest field is 6 levels down."""
MAX_NODES = 500_000
"""Most values once aliases are expanded (a listed statewide scenario has about 50,000)."""

Path_ = tuple[str | int, ...]
_MERGE, _MAP, _SEQ = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_TIME = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
_FLOAT12 = re.compile(r"^[-+]?(\d[\d_]*(\.\d*)?|\.\d+)[eE][-+]?\d+$")
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class YamlProblem(Exception):
    """A file that cannot be read as YAML data: the line, the path (if known) and what is wrong."""

    def __init__(self, line: int, path: Path_ | None, message: str):
        super().__init__(message)
        self.line, self.path, self.message = line, path, message


def read_text(path: Path) -> str:
    """The file's text, at most MAX_BYTES of UTF-8 (a BOM is dropped), with no control characters."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO nobody writes to must not block the open
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise YamlProblem(1, None, f"cannot read the scenario file ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise YamlProblem(1, None, f"larger than {MAX_BYTES // (1024 * 1024)} MiB: not a scenario file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlProblem(data[: exc.start].count(b"\n") + 1, None, f"not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x})") from None
    bad = _NON_PRINTABLE.search(text)
    if bad:
        what = "a NUL byte" if bad.group() == "\x00" else f"the control character {ord(bad.group()):#04x}"
        raise YamlProblem(text.count("\n", 0, bad.start()) + 1, None, f"contains {what}: not a text file")
    return text


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when built with it: 10x faster


def compose(text: str) -> yaml.Node | None:
    """The document's node graph (aliases still shared), or None for an empty document.

    Composed from the parser's events without recursion (PyYAML's composer recurses once per
    level and overflows on deep nesting), refusing more than MAX_DEPTH levels as it goes.
    """
    resolver = yaml.resolver.Resolver()
    anchors: dict[str, yaml.Node] = {}
    stack: list[list[Any]] = []  # [collection node, pending mapping key]
    root: yaml.Node | None = None
    documents = 0

    def attach(node: yaml.Node) -> None:
        nonlocal root
        if not stack:
            root = node
        elif isinstance(stack[-1][0], yaml.SequenceNode):
            stack[-1][0].value.append(node)
        elif stack[-1][1] is None:
            stack[-1][1] = node
        else:
            stack[-1][0].value.append((stack[-1][1], node))
            stack[-1][1] = None

    try:
        for event in yaml.parse(text, Loader=_LOADER):
            line = event.start_mark.line + 1 if event.start_mark else 1
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlProblem(line, None, "more than one YAML document (---): a scenario is one document")
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise YamlProblem(line, None, f"unknown alias *{event.anchor}")
                attach(anchors[event.anchor])
            elif isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                node: yaml.Node
                start: Any = event.start_mark  # libyaml's and PyYAML's events carry different Mark types
                if isinstance(event, yaml.ScalarEvent):
                    tag = event.tag if event.tag not in (None, "!") else resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
                    node = yaml.ScalarNode(tag, event.value, start, start, style=event.style or None)
                else:
                    kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
                    tag = event.tag if event.tag not in (None, "!") else resolver.resolve(kind, None, event.implicit)
                    node = kind(tag, [], start, None, flow_style=event.flow_style)
                if event.anchor is not None:
                    anchors[event.anchor] = node
                attach(node)
                if not isinstance(node, yaml.ScalarNode):
                    stack.append([node, None])
                    if len(stack) > MAX_DEPTH:
                        raise YamlProblem(line, None, f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                stack.pop()
    except yaml.MarkedYAMLError as exc:
        raise _syntax(exc, text.count("\n")) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, None, f"syntax: {' '.join(str(exc).split())}") from None
    return root


def _syntax(exc: yaml.MarkedYAMLError, last_line: int) -> YamlProblem:
    """A parser error at its line; one that ran into the end of the file, at the line of what was left open."""
    problem, context = exc.problem or "", exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and mark is not None and mark.line >= last_line:
        mark = exc.context_mark
    text = f"syntax: {problem}" + (f" ({context} from line {exc.context_mark.line + 1})" if context and exc.context_mark else "")
    return YamlProblem(mark.line + 1 if mark else 1, None, text)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class Located:
    """A YAML document as plain Python data plus the line of every node, by path."""

    def __init__(self, node: yaml.Node):
        self.lines: dict[Path_, int] = {}
        self._measure(node, 0, set(), {})
        self._scalars = yaml.SafeLoader("")
        try:
            self.data = self._build(node, ())
        finally:
            self._scalars.dispose()

    def _measure(self, node: yaml.Node, depth: int, open_: set[int], memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
        """(values, height) of the expanded node; refuses self-containing aliases, depth and bombs."""
        line = node.start_mark.line + 1
        if id(node) in open_:
            raise YamlProblem(line, None, "an alias refers to a node that contains it (a recursive alias)")
        if id(node) in memo:
            size, height = memo[id(node)]
        else:
            if depth > MAX_DEPTH:
                raise YamlProblem(line, None, f"nested deeper than {MAX_DEPTH} levels (aliases expanded)")
            open_.add(id(node))
            size, height = 1, 0
            for child in _children(node):
                s, h = self._measure(child, depth + 1, open_, memo)
                size, height = size + s, max(height, h + 1)
                if size > MAX_NODES:
                    raise YamlProblem(line, None, f"the aliases expand to over {MAX_NODES:,} values (an alias bomb?)")
            open_.discard(id(node))
            memo[id(node)] = size, height
        if depth + height > MAX_DEPTH:
            raise YamlProblem(line, None, f"nested deeper than {MAX_DEPTH} levels (aliases expanded)")
        return size, height

    def _build(self, node: yaml.Node, path: Path_) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self._plain_collection(node, path)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:  # merged keys first: the mapping's own keys win
                if key_node.tag == _MERGE:
                    for source in value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]:
                        if not isinstance(source, yaml.MappingNode):
                            raise YamlProblem(source.start_mark.line + 1, path, "a merge key (<<) takes a mapping or a list of mappings")
                        for key, value in self._build(source, path).items():
                            out.setdefault(key, value)
            own: set[str] = set()
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    raise YamlProblem(key_node.start_mark.line + 1, path, "a key must be a plain name, not a list or a mapping")
                key = key_node.value
                if key in own:
                    raise YamlProblem(key_node.start_mark.line + 1, path + (key,), "the field is given twice")
                own.add(key)
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self._build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    @staticmethod
    def _plain_collection(node: yaml.Node, path: Path_) -> None:
        if node.tag not in (_MAP, _SEQ):
            raise YamlProblem(node.start_mark.line + 1, path, f"unsupported YAML tag {node.tag!r} (plain mappings and lists only)")

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        value = node.value
        if isinstance(node, yaml.ScalarNode) and node.style is None:
            if node.tag == "tag:yaml.org,2002:int" and _TIME.match(value):
                return value  # 19:00 is a time, not YAML 1.1's base-60 1140
            if node.tag == "tag:yaml.org,2002:str" and _FLOAT12.match(value):
                return float(value.replace("_", ""))
        try:
            return self._scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            line = node.start_mark.line + 1
            if node.tag == "tag:yaml.org,2002:timestamp":
                raise YamlProblem(line, path, f"{value!r} is not a real date (YYYY-MM-DD)") from None
            what = getattr(exc, "problem", None) or " ".join(str(exc).split())
            raise YamlProblem(line, path, f"cannot read {value!r} ({what})") from None

    def line_of(self, path: Path_) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)
