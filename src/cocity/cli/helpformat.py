"""Help pages that wrap Chinese text by its display width and never cut it.

Click's formatter wraps on spaces and counts every character as one column, and Rich's help
panels cut a run of Chinese characters longer than the column with "…". Here a line may break
between any two CJK characters (never before a closing punctuation mark), widths are counted in
terminal cells (a CJK character takes two), and a command list shows each command's whole
first paragraph.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

# no line starts with these (Chinese line-breaking rule, 避头点)
NO_LINE_START = set("，。、；：！？）》」』】〉…’”,.;:!?)]}%")


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes: wide and full-width characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _tokens(text: str) -> list[str]:
    """Breakable pieces: runs of non-wide characters between spaces, each wide character on
    its own (closing punctuation glued to what precedes it), and the spaces between."""
    out: list[str] = []
    for ch in text:
        if ch == " ":
            out.append(" ")
        elif ch in NO_LINE_START and out and out[-1] != " ":
            out[-1] += ch
        elif _is_wide(ch) or not out or out[-1] == " " or _is_wide(out[-1][-1]):
            out.append(ch)
        else:
            out[-1] += ch
    return out


def wrap(text: str, width: int) -> list[str]:
    """``text`` wrapped to lines of at most ``width`` cells (a single longer word stays
    whole on its own line)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for tok in _tokens(" ".join(paragraph.split())):
            if tok == " " and not line:
                continue
            if line and cell_width(line + tok) > width:
                lines.append(line.rstrip())
                line = "" if tok == " " else tok
            else:
                line += tok
        lines.append(line.rstrip())
    return lines


_BaseFormatter: Any = typer.Context.formatter_class


class CjkHelpFormatter(_BaseFormatter):
    """Click's help formatter with :func:`wrap` for text and definition lists."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        for para in text.split("\n\n"):
            for line in wrap(para, max(self.width - self.current_indent, 20)):
                self.write(f"{indent}{line}\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30,
                 col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((cell_width(r[0]) for r in rows), default=0), col_max) + col_spacing
        pad = " " * (first_col + self.current_indent)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if cell_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cell_width(first)))
            else:
                self.write("\n" + pad)
            lines = wrap(second, max(self.width - first_col - self.current_indent, 20))
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{pad}{line}\n")


class CocityContext(typer.Context):
    formatter_class = CjkHelpFormatter


class CocityCommand(TyperCommand):
    context_class = CocityContext


class CocityGroup(TyperGroup):
    """A command group whose help lists each command with its whole first paragraph."""

    context_class = CocityContext

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, (cmd.short_help or cmd.help or "").split("\n\n")[0]))
        if rows:
            with formatter.section("Commands / 命令"):
                formatter.write_dl(rows)


def use_cjk_help(app: typer.Typer) -> None:
    """Give every command and group registered on ``app`` (recursively) these classes."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = CocityCommand
    for group in app.registered_groups:
        if not isinstance(group.cls, type) or group.cls is TyperGroup:
            group.cls = CocityGroup
        if group.typer_instance is not None:
            group.typer_instance.info.cls = CocityGroup
            use_cjk_help(group.typer_instance)
