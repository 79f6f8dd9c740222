"""Why an import does not go ahead: the refusal the command, the admin's import page and
the insert of a batch (refresh/lifecycle/inserting.py) raise, and the remedies it names."""

from __future__ import annotations

from typing import Literal

#: What to do about a refusal with a remedy, in the command's words; the admin's import
#: page words it as its form (apps/admin/import_page.py).
Remedy = Literal["slug", "replace"]
CLI_REMEDIES: dict[Remedy, str] = {
    "slug": "import under another slug with --slug NEW",
    "replace": "--replace erases it and imports the file in its place, in one transaction",
}


class ImportRefused(RuntimeError):
    """The import cannot go ahead (the message says why); nothing was changed. `remedy`
    names an option that would let it ("slug", "replace"), if one would; `existing`, for
    "replace", the slug of the tenant that replacing would erase."""

    def __init__(self, reason: str, remedy: Remedy | None = None, existing: str = "") -> None:
        super().__init__(f"{reason}: {CLI_REMEDIES[remedy]}" if remedy else reason)
        self.reason, self.remedy, self.existing = reason, remedy, existing
