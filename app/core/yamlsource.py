"""Load reviewed YAML content (rule packs, playbooks) keeping the line of every mapping and item.

Content errors must name `file:line`, so the loader records where each mapping starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.errors import ConfigError


class LineDict(dict[str, Any]):
    """A mapping from YAML that remembers the (1-based) line it starts on."""

    line: int = 0


class LineList(list[Any]):
    line: int = 0


class LineStr(str):
    """A string scalar from YAML that remembers its line."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_str(loader: _LineLoader, node: yaml.ScalarNode) -> LineStr:
    out = LineStr(loader.construct_scalar(node))
    out.line = node.start_mark.line + 1
    return out


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
    out.line = node.start_mark.line + 1
    return out


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def line_of(value: Any, default: int = 1) -> int:
    return getattr(value, "line", default) or default


def load_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors become ConfigError with file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError(f"{path}:{line}: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}:1: {exc}") from exc


def content_error(path: Path, node: Any, message: str) -> ConfigError:
    return ConfigError(f"{path}:{line_of(node)}: {message}")
