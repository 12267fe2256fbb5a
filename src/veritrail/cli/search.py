"""``veritrail search``: find documents and declarations, or rebuild the index."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from veritrail.api.archive import hit_answer
from veritrail.cli.common import acting_actor, context, err, handle_errors, out, print_json
from veritrail.search.indexer import reindex
from veritrail.search.service import Found, Results
from veritrail.search.service import search as run_search


def _markup(hit: Found) -> str:
    return "".join(
        f"[bold yellow]{escape(text)}[/]" if marked else escape(text)
        for text, marked in hit.snippet.segments
    )


def _print(results: Results, show_facets: bool) -> None:
    shown = len(results.hits)
    first = results.offset + 1 if shown else 0
    out.print(
        f"{results.total} result{'s' if results.total != 1 else ''}"
        + (f", {first}–{results.offset + shown} shown" if shown else ""),
        highlight=False,
    )
    for hit in results.hits:
        source = f"  ({escape(hit.source_name)})" if hit.source_name else ""
        out.print(
            f"\n[bold]{escape(hit.title)}[/]\n  {hit.record_type.value} {hit.record_id} · "
            f"{hit.language} · {hit.classification} · score {hit.score:.2f}{source}",
            highlight=False,
        )
        out.print("  " + _markup(hit).replace("\n", " "), highlight=False)
    if show_facets:
        for facet, values in results.facets.items():
            listed = ", ".join(f"{v.value} ({v.count})" for v in values[:10])
            out.print(f"\n[bold]{facet.value}[/]: {listed or '—'}", highlight=False)


@handle_errors()
def search(
    query: Annotated[
        list[str],
        typer.Argument(
            help='The query: words, "phrases", AND/OR/NOT, -word, field:value '
            "(type, state, regime, lang, year, classification, symbol, title). "
            "`veritrail search reindex` rebuilds the index instead.",
        ),
    ],
    limit: Annotated[int, typer.Option(min=1, max=100, help="Results to show.")] = 10,
    offset: Annotated[int, typer.Option(min=0, help="Results to skip.")] = 0,
    facets: Annotated[bool, typer.Option("--facets", help="Show counts per facet.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Search documents and declarations, within what you may see (``--as USER`` narrows it)."""
    if query == ["reindex"]:
        _reindex(as_json)
        return
    text = " ".join(query)
    with context() as ctx:
        results = run_search(ctx, acting_actor(ctx), text, limit=limit, offset=offset)
    if as_json:
        print_json(
            {
                "query": text,
                "total": results.total,
                "offset": results.offset,
                "results": [hit_answer(h).model_dump(mode="json") for h in results.hits],
                "facets": {
                    facet.value: [{"value": v.value, "count": v.count} for v in values]
                    for facet, values in results.facets.items()
                },
            }
        )
    else:
        _print(results, facets)


def _reindex(as_json: bool) -> None:
    """Rebuild the search index from the database and swap it in."""
    columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with context() as ctx, Progress(*columns, console=err, transient=as_json) as bar:
        task = bar.add_task("indexing", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        written = reindex(ctx, progress=progress)
    if as_json:
        print_json({"ok": True, "indexed": written})
    else:
        out.print(f"search index rebuilt: {written} records, swapped in", highlight=False)


__all__ = ["search"]
