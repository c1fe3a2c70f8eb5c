"""Errors raised by the knowledge store."""


class ClearlineError(Exception):
    """Base of every error Clearline raises on purpose; the message is for people."""


class KnowledgeError(ClearlineError):
    """A knowledge-store operation failed at run time."""


class InstallError(KnowledgeError):
    """An installed package this step needs does not load; the message says what to change."""


class DocumentNotFound(KnowledgeError):
    """The tenant has no document with that id."""

    def __init__(self, tenant: str, document_id: str) -> None:
        super().__init__(
            f"tenant '{tenant}' has no knowledge source '{document_id}'; "
            "list sources with `clearline sources --tenant {tenant}`".replace("{tenant}", tenant)
        )
        self.tenant = tenant
        self.document_id = document_id


class InvalidTenantName(ClearlineError):
    """A tenant name cannot be used as an index partition name."""


class DamagedFile(RuntimeError):
    """A data file Clearline cannot read: a runtime failure, not bad input. The message names
    the file and its repair for the operator; `code` is the error code the CLI's --json and
    the API give (the API shows service.errors.DAMAGED, without the server's paths)."""

    code = "damaged_file"

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)


class DamagedVectorIndex(DamagedFile):
    """A region's vector index that its files no longer open (overwritten, cut short), or that
    is missing beside knowledge that has chunks. Every vector is derived from the knowledge
    database, so `clearline reindex` rebuilds it (knowledge/reindex.py)."""

    code = "damaged_index"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(
            path,
            f"the vector index {path} is unusable ({problem}); stop Clearline and run "
            "`clearline reindex` to rebuild it from the knowledge database (nothing else is "
            "lost)",
        )
