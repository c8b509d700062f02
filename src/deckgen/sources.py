"""Read files the user may not have written: bounded in size, UTF-8, no control characters, YAML
without aliases, deep nesting or repeated keys. Every failure is a problem at its line."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import yaml

from deckgen.errors import Problem, SourceErrors, SourceLoc, quote

MAX_TEXT_FILE = 256 * 1024  # bytes of a card file or deck.yaml (the largest shipped: 7 KiB)
MAX_YAML_DEPTH = 20  # nesting of YAML collections: settings and plot options need 3
# Anki splits fields at U+001F and terminals obey escapes: only tab and newline (also as CRLF)
# may appear. A lone CR would end a line for one reader and not for another.
_CONTROL = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u2028\\u2029]|\\r(?!\\n)")


def read_text(
    path: Path,
    limit: int = MAX_TEXT_FILE,
    *,
    keep_line_ends: bool = False,
    root: Path | None = None,
) -> str:
    """Return a text file's content with LF line ends; raise SourceErrors on anything wrong.

    `keep_line_ends` returns the text exactly as stored, for a rewrite that changes one line;
    `root` is a folder the file must be in once links are followed.
    """
    top = SourceLoc(path, 1)
    try:
        if root is not None and not path.resolve().is_relative_to(root.resolve()):
            raise SourceErrors([Problem(top, "links to outside the cards folder")])
        if not stat.S_ISREG(path.stat().st_mode):  # a folder, a device, a pipe that never ends
            raise SourceErrors([Problem(top, "not a regular file")])
        with path.open("rb") as file:
            raw = file.read(limit + 1)
    except (OSError, RuntimeError) as err:  # RuntimeError: a link loop before Python 3.13
        reason = getattr(err, "strerror", None) or "a loop of links"
        raise SourceErrors([Problem(top, f"cannot read: {reason}")]) from None
    if len(raw) > limit:
        raise SourceErrors([Problem(top, f"file is larger than {limit // 1024} KiB")])
    try:
        # tolerate a byte-order mark; keep it when the text is to be written back
        text = raw.decode("utf-8" if keep_line_ends else "utf-8-sig")
    except UnicodeDecodeError:
        raise SourceErrors([Problem(top, "not UTF-8 text")]) from None
    raise_control_characters(text, top)
    return text if keep_line_ends else text.replace("\r\n", "\n")


def raise_control_characters(text: str, top: SourceLoc) -> None:
    """Refuse control characters (all but tab and line ends), naming the first one's line."""
    found = _CONTROL.search(text)
    if found is not None:
        line = top.line + text.count("\n", 0, found.start())
        code = f"U+{ord(found.group()[0]):04X}"
        message = f"control character {code}: only tab and line breaks may appear in card text"
        raise SourceErrors([Problem(SourceLoc(top.path, line), message)])


_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
}


_UNDATED = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases, deep nesting, repeated keys, tags or control
    characters: values are text, numbers, booleans, lists and mappings.

    Aliases let 400 bytes expand to gigabytes; nesting recurses in Python; a repeated key
    silently keeps the last value; a tag (`!!binary`, `!!set`) or a date makes a value no
    option expects; an escape (`"\\x1f"`) makes a control character the file may not hold.
    None of them has a use in deck settings or plot options.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.yaml_implicit_resolvers = _UNDATED  # dates stay text: no option is a date

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            problem = f"nested more than {MAX_YAML_DEPTH} levels deep"
            raise yaml.composer.ComposerError(None, None, problem, mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if node.tag not in _PLAIN_TAGS:
            problem = f"tag '{quote(node.tag)}' is not allowed: write plain values"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        try:
            return super().construct_object(node, deep=deep)
        except _UNREADABLE as err:
            raise _unreadable(err, node) from None

    def construct_scalar(self, node: Any) -> Any:
        value = super().construct_scalar(node)
        if isinstance(value, str) and (found := _CONTROL.search(value)):
            code = f"U+{ord(found.group()[0]):04X}"
            problem = f"control character {code} in a value: only tab and line breaks may appear"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        return value

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if not isinstance(node, yaml.MappingNode):  # `!!map` on a word or a list
            problem = "expected `key: value` lines here"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problem = "merge keys (<<) are not allowed"
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict | set):
                problem = "a key must be a plain name"
            elif key in seen:
                problem = f"key '{quote(str(key))}' is given twice"
            else:
                seen.add(key)
                continue
            raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


# What PyYAML's constructors raise for a value that does not fit its type (`!!int ""`, a number
# of 5,000 digits, `!!bool maybe`): not a YAMLError.
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


def _unreadable(err: Exception, node: yaml.Node) -> yaml.YAMLError:
    problem = f"cannot read this value: {quote(str(err), 80)}"
    return yaml.constructor.ConstructorError(None, None, problem, node.start_mark)


def yaml_document(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse YAML strictly; return its node tree (for key lines) and its value."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        try:
            return node, loader.construct_document(node)
        except _UNREADABLE as err:  # raised while filling a mapping, after construct_object
            raise _unreadable(err, node) from None
    finally:
        loader.dispose()


def load_yaml(text: str) -> Any:
    """Parse YAML strictly and return its value (raises yaml.YAMLError)."""
    return yaml_document(text)[1]
