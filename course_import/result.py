"""What an import found and did, table by table, for the command's report."""

from dataclasses import dataclass, field


@dataclass
class TableCounts:
    """Rows of one table: in the source, imported (or, on a dry run, that would be), already
    here (same id, skipped), and skipped for a conflicting email."""

    source: int = 0
    imported: int = 0
    already_here: int = 0
    conflicting: int = 0


@dataclass
class ImportResult:
    """The source's alembic revision, and per table its ``TableCounts``; the (id, email) pairs
    skipped because their emails differ only by case; the number of passwords that are not
    bcrypt hashes (those users cannot log in until given a new one)."""

    revision: str
    dry_run: bool
    users: TableCounts = field(default_factory=TableCounts)
    posts: TableCounts = field(default_factory=TableCounts)
    votes: TableCounts = field(default_factory=TableCounts)
    conflicting_emails: list[tuple[int, str]] = field(default_factory=list)
    unusable_passwords: int = 0
