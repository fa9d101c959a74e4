-- invarlockd's own records: the audit log and recorded verifications of archived evidence.
-- Promotions themselves are not stored here: they are the evidence_dirs of origin 'invarlockd',
-- rebuilt from reports/*/metadata.json whenever the index is.

-- Append-only and hash-chained: hash = sha256(prev_hash | seq | at | action | subject | actor | detail).
create table audit_log (
    seq integer primary key autoincrement,
    at text not null,
    action text not null,
    subject text not null,
    actor text,
    detail text not null,
    prev_hash text not null,
    hash text not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

create table verifications (
    seq integer primary key autoincrement,
    promotion text not null,
    ok integer not null,
    result text not null,
    actor text,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
create index verifications_promotion on verifications (promotion, seq);
