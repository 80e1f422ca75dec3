"""Tasks: who does what by when (T-n)."""

from __future__ import annotations

from storage.tx import Row, Tx


async def listing(tx: Tx, op_id: int, *, include_done: bool, assignee: str | None = None,
                  due_before: str | None = None, agency: str | None = None) -> list[Row]:
    """Tasks in number order; each given filter narrows the list."""
    where: list[str] = ["op_id=?"]
    params: list[object] = [op_id]
    if not include_done:
        where.append("status != 'done'")
    for clause, value in (("assignee=?", assignee), ("due IS NOT NULL AND due < ?", due_before),
                          ("agency=?", agency)):
        if value is not None:
            where.append(clause)
            params.append(value)
    return await tx.all(f"SELECT * FROM tasks WHERE {' AND '.join(where)} ORDER BY seq", params)
