"""The control database: tenants and their keys, configuration, procedures, conversations,
traces, the QA loop's records and the audit log, behind SQLAlchemy and migrated by Alembic."""
