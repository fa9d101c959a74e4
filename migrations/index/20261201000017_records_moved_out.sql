-- The durable records (audit log, verifications, retention plans and moves) live in records.db
-- from now on (src/storage/records/): index.db is a cache that may be deleted at any moment.
-- `Records::open` copies these tables from an older index.db before this migration drops them.
drop table if exists retention_moves;
drop table if exists retention_plans;
drop table if exists verifications;
drop table if exists audit_log;
