"""Per-file ingestion errors. Every message names the file and says what to do next."""

from knowledge.errors import ClearlineError


class IngestError(ClearlineError):
    """One source could not be ingested; the others go on."""


class UnsupportedType(IngestError):
    pass


class EmptySource(IngestError):
    pass


class FileTooLarge(IngestError):
    pass


class CorruptFile(IngestError):
    pass


class EncryptedFile(IngestError):
    pass


class UnsafeFile(IngestError):
    """Zip bombs, XML entity bombs: refused without being opened by a parser."""


class BudgetExceeded(IngestError):
    """Parsing took more time or memory than the configured budget."""


class InvalidRecord(IngestError):
    """A line of a corpus JSONL is not a valid record."""


class InvalidName(IngestError):
    """A file's name, or its path inside an ingested folder, cannot be a document id."""
