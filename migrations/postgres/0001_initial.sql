-- The whole schema of escalator. Times are unix milliseconds (UTC) in
-- bigint columns on both backends, so that the same SQL compares them the
-- same way on SQLite and PostgreSQL. Lists and objects are JSON text.
-- Every integer column is bigint so that both backends decode it as i64.
-- Never edit an applied migration: add a new one.

-- Partner desks and what they know (their capabilities feed the gaps).
create table partners (
    id text primary key,                          -- chosen by the operator (`partners add --id`)
    name text not null,
    email text not null,                          -- the partner desk's address
    training text not null default '[]',          -- JSON array of strings
    documentation text not null default '[]',     -- JSON array of strings
    tooling text not null default '[]',           -- JSON array of strings
    created_at bigint not null,
    updated_at bigint not null
);

-- API tokens. Only a hash is stored; the token is shown once at creation.
create table tokens (
    id text primary key,
    token_hash text not null,                     -- hex SHA-256 of the token
    role text not null check (role in ('partner', 'vianet', 'admin')),
    partner_id text references partners (id),     -- set for role 'partner' only
    name text not null,
    created_at bigint not null,
    constraint tokens_token_hash_key unique (token_hash),
    constraint tokens_partner_role check ((role = 'partner') = (partner_id is not null))
);

-- Cases. `version` grows by one with every change (optimistic concurrency).
create table cases (
    id text primary key,                          -- `c_` + random, not guessable
    partner_id text not null references partners (id),
    external_id text not null,                    -- the partner's own reference
    fingerprint text not null,                    -- SHA-256 of the normalised case: same body, same case
    case_json text not null,                      -- the normalised case
    severity text not null,                       -- copied from the case for deadline defaults
    stage text not null,
    decision text not null,                       -- the latest classification's tier
    outcome_json text not null,                   -- the latest outcome, with its policy hash
    version bigint not null,
    vianet_case_id text,                          -- 21Vianet's own case id, once acknowledged
    reopened bigint not null default 0,           -- times the case was reopened
    last_seq bigint not null default 0,           -- seq of the latest event: the next one takes last_seq + 1
    ever_escalated boolean not null default false, -- 21Vianet keeps seeing a case once escalated
    created_at bigint not null,
    updated_at bigint not null,
    constraint cases_partner_external_id_key unique (partner_id, external_id)
);
create index cases_partner_created on cases (partner_id, created_at desc, id desc);
create index cases_escalated_created on cases (ever_escalated, created_at desc, id desc);

-- Every change of a case, oldest first per case.
create table events (
    case_id text not null references cases (id),
    seq bigint not null,                          -- 1, 2, 3… per case
    at bigint not null,
    actor_role text not null,                     -- partner, vianet, admin, system
    actor_id text,
    kind text not null,                           -- intake, move, reopen, deadline, email_sent, email_failed…
    action text,                                  -- the workflow move (take, escalate, return…); null for other events
    from_stage text,
    to_stage text,
    reason text,
    data text,                                    -- JSON object of extra fields (outcome, deadline_kind, message_id…)
    primary key (case_id, seq)
);

-- Emails promised by stage changes, written in the same transaction and
-- delivered afterwards. Rows are never deleted: sent or failed, they stay.
create table outbox (
    id text primary key,
    case_id text not null references cases (id),
    event_seq bigint not null,                     -- the event that promised this email
    event text not null,                          -- escalated, acknowledged, info_requested…
    dedupe_key text not null,                     -- `{case_id}:{event_seq}:{event}`: a retried write cannot enqueue twice
    message_id text not null,                     -- stable Message-ID, chosen at enqueue
    to_addrs text not null,                       -- JSON array of addresses
    cc_addrs text not null,                       -- JSON array of addresses
    payload text not null,                        -- JSON snapshot the message is rendered from (mail::EmailPayload)
    status text not null check (status in ('pending', 'sent', 'failed')),
    attempts bigint not null default 0,
    next_attempt_at bigint not null,              -- due time of the next attempt
    lease_until bigint,                           -- a claim; once past, any sender may claim the row again
    claimed_by text,
    last_error text,
    sent_at bigint,
    created_at bigint not null,
    constraint outbox_dedupe_key_key unique (dedupe_key),
    constraint outbox_message_id_key unique (message_id)
);
create index outbox_due on outbox (status, next_attempt_at);
create index outbox_case on outbox (case_id);

-- The running deadline of a case's stage, at most one per case. Leaving the
-- stage deletes the row; awaiting_info pauses it (due_at null, remaining kept).
create table deadlines (
    case_id text primary key references cases (id),
    kind text not null check (kind in ('acknowledge', 'resolution', 'close')),
    stage text not null,                          -- the stage the deadline belongs to
    span_ms bigint not null,                      -- the full length, for warnings and reminders
    due_at bigint,                                -- null while paused
    remaining_ms bigint,                          -- time left, kept while paused
    warned boolean not null default false,        -- the warning email went out
    reminders bigint not null default 0,          -- reminders sent for this deadline
    next_action_at bigint,                        -- when the worker must look next; null while paused or done
    lease_until bigint,
    claimed_by text
);
create index deadlines_next_action on deadlines (next_action_at);
create index events_action on events (action);
