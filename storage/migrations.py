"""The one ordered list of schema migrations.

Migrations are append-only: a deployed database has run every entry up to its
`schema_version`, so an entry is never edited once it has landed; a change is a new
entry. Times are stored as ISO 8601 UTC text (`2026-11-25T04:00:00Z`) so they sort and
export without conversion. Every record table carries `op_id`, a per-operation `seq`
(the number users see, e.g. T-12) and a TLP 2.0 `tlp` label.

Each migration's description is stored beside its version in the database, so that an
older opsroom opening a database a newer one has migrated can say what it is missing
(see `DatabaseTooNew`), not only a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: str


class DatabaseTooNew(Exception):
    """The database was migrated by a newer opsroom. Running on would write rows the newer
    schema may not expect, so opening stops here and the administrator decides."""

    def __init__(self, path: Path, found: int, found_description: str | None,
                 known: int) -> None:
        self.path, self.found, self.known = path, found, known
        what = f" ({found_description})" if found_description else ""
        super().__init__(
            f"database {path} is at version {found}{what}, this opsroom knows up to "
            f"{known}: upgrade opsroom or restore a backup")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "operations, agencies, members, records, handled events and the audit log", """
    CREATE TABLE operations (
        id INTEGER PRIMARY KEY,
        room_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        code TEXT NOT NULL,
        tz TEXT NOT NULL,
        tlp TEXT NOT NULL,
        phase TEXT NOT NULL DEFAULT 'planning',
        hhour TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE counters (
        op_id INTEGER NOT NULL REFERENCES operations(id),
        kind TEXT NOT NULL,
        last INTEGER NOT NULL,
        PRIMARY KEY (op_id, kind)
    );
    CREATE TABLE agencies (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        code TEXT NOT NULL,
        country TEXT NOT NULL,
        tz TEXT NOT NULL,
        name TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (op_id, code)
    );
    CREATE TABLE members (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        user_id TEXT NOT NULL,
        agency TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (op_id, user_id)
    );
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        text TEXT NOT NULL,
        assignee TEXT,
        agency TEXT,
        due TEXT,
        priority TEXT NOT NULL DEFAULT 'normal',
        status TEXT NOT NULL DEFAULT 'open',
        reason TEXT,
        done_at TEXT,
        tlp TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE arrests (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        ref TEXT NOT NULL,
        country TEXT NOT NULL,
        agency TEXT NOT NULL,
        at TEXT NOT NULL,
        charge TEXT,
        role TEXT,
        tlp TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE seizures (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        value TEXT NOT NULL,
        country TEXT,
        provider TEXT,
        status TEXT NOT NULL DEFAULT 'identified',
        tlp TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE takedowns (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        target TEXT NOT NULL,
        seizure_seq INTEGER,
        agency TEXT NOT NULL,
        planned_at TEXT,
        h_offset INTEGER,
        status TEXT NOT NULL DEFAULT 'planned',
        executed_at TEXT,
        note TEXT,
        tlp TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE rollcalls (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        opened_by TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        closed_at TEXT,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE rollcall_answers (
        id INTEGER PRIMARY KEY,
        rollcall_id INTEGER NOT NULL REFERENCES rollcalls(id),
        agency TEXT NOT NULL,
        ready INTEGER NOT NULL,
        reason TEXT,
        user_id TEXT NOT NULL,
        at TEXT NOT NULL,
        UNIQUE (rollcall_id, agency)
    );
    CREATE TABLE assets (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        action TEXT NOT NULL,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        country TEXT,
        agency TEXT,
        note TEXT,
        tlp TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE tallies (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        delta INTEGER NOT NULL,
        country TEXT,
        note TEXT,
        tlp TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE preservations (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL DEFAULT 'preservation',
        provider TEXT NOT NULL,
        country TEXT NOT NULL,
        ref TEXT,
        sent_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'sent',
        tlp TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE processed_events (
        event_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        reply TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        processed_at TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        room_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        at TEXT NOT NULL,
        sender TEXT NOT NULL,
        event_id TEXT NOT NULL,
        command TEXT NOT NULL,
        action TEXT NOT NULL,
        tbl TEXT NOT NULL,
        row_id INTEGER NOT NULL,
        before TEXT,
        after TEXT,
        undoes TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        UNIQUE (room_id, n)
    );
    CREATE INDEX undelivered_replies ON processed_events (delivered) WHERE delivered = 0;
    CREATE INDEX audit_by_sender ON audit_log (room_id, sender, id);
    CREATE TABLE audit_heads (
        room_id TEXT PRIMARY KEY,
        n INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX tasks_by_op ON tasks (op_id, status);
    CREATE INDEX seizures_by_op ON seizures (op_id, type, status);
    CREATE INDEX takedowns_by_op ON takedowns (op_id, status);
    CREATE INDEX arrests_by_op ON arrests (op_id);
    CREATE INDEX preservations_by_op ON preservations (op_id, status);
    """),
    Migration(2, "situation reports and reminders", """
    CREATE TABLE sitrep_schedules (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL UNIQUE REFERENCES operations(id),
        kind TEXT NOT NULL,
        spec TEXT NOT NULL,
        tz TEXT NOT NULL,
        anchor TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sitrep_notes (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL UNIQUE REFERENCES operations(id),
        note TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sitreps (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        number INTEGER NOT NULL,
        slot TEXT,
        posted_at TEXT NOT NULL,
        late INTEGER NOT NULL DEFAULT 0,
        final INTEGER NOT NULL DEFAULT 0,
        snapshot TEXT NOT NULL,
        UNIQUE (op_id, number),
        UNIQUE (op_id, slot)
    );
    CREATE TABLE reminders_sent (
        op_id INTEGER NOT NULL REFERENCES operations(id),
        key TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        late INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (op_id, key)
    );
    CREATE INDEX tasks_due ON tasks (op_id, due) WHERE due IS NOT NULL;
    CREATE INDEX seizures_created ON seizures (op_id, created_at);
    CREATE INDEX arrests_created ON arrests (op_id, created_at);
    """),
    Migration(3, "cross-signing identities pinned on first sight; devices judged", """
    CREATE TABLE identities (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL UNIQUE,
        master_key TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pinned',
        new_master_key TEXT,
        pinned_at TEXT NOT NULL,
        changed_at TEXT,
        confirmed_by TEXT
    );
    CREATE TABLE device_trust (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        trusted INTEGER NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (user_id, device_id)
    );
    CREATE TABLE trust_refusals (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (room_id, user_id, device_id, reason)
    );
    """),
    # Which commands used a lead's power, so /undo can ask for the same power later;
    # a command's audit entries found by its event (/undo, and exports checking whether a
    # command also changed a record they leave out)
    Migration(4, "lead powers used per command (for /undo) and audit entries by event", """
    CREATE TABLE lead_changes (
        event_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        what TEXT NOT NULL
    );
    CREATE INDEX audit_by_event ON audit_log (room_id, event_id);
    """),
    # Used by bot/housekeeping.py.
    Migration(5, "pruning handled events by age", """
    CREATE INDEX processed_events_by_age ON processed_events (processed_at) WHERE delivered = 1;
    """),
    # Not records, so not audited: where each room's handled events
    # end, commands waiting for their room key, and posts not yet in the room
    Migration(6, "intake bookkeeping: room marks, undecryptable commands, outbox", """
    CREATE TABLE room_marks (
        room_id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        origin_ts INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE undecryptable_events (
        event_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        event TEXT NOT NULL,
        first_seen TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        room_id TEXT NOT NULL,
        content TEXT NOT NULL,
        txn_id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    """),
    Migration(7, "the action-day board posted by itself: boards owed, pictures kept with "
              "their post until the homeserver has them", """
    CREATE TABLE board_posts (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        key TEXT NOT NULL,
        due_at TEXT NOT NULL,
        settled_at TEXT,
        skipped INTEGER NOT NULL DEFAULT 0,
        UNIQUE (op_id, key)
    );
    CREATE INDEX board_posts_owed ON board_posts (op_id) WHERE settled_at IS NULL;
    ALTER TABLE outbox ADD COLUMN image TEXT;
    ALTER TABLE outbox ADD COLUMN image_data BLOB;
    ALTER TABLE outbox ADD COLUMN thumbnail_data BLOB;
    """),
    Migration(8, "deconfliction: keyed hashes of the operations' indicators and suspect "
              "references, the hits between operations and each operation's side", """
    CREATE TABLE deconfliction_secret (
        secret BLOB NOT NULL
    );
    INSERT INTO deconfliction_secret (secret) VALUES (randomblob(32));
    CREATE TABLE deconfliction_index (
        key BLOB NOT NULL,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        tbl TEXT NOT NULL,
        row_id INTEGER NOT NULL,
        PRIMARY KEY (key, op_id, tbl, row_id)
    ) WITHOUT ROWID;
    CREATE INDEX deconfliction_index_by_record ON deconfliction_index (tbl, row_id);
    CREATE TABLE deconfliction_hits (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE deconfliction_sides (
        id INTEGER PRIMARY KEY,
        hit INTEGER NOT NULL REFERENCES deconfliction_hits(id),
        op_id INTEGER NOT NULL REFERENCES operations(id),
        tbl TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        tlp TEXT NOT NULL,
        shared_by TEXT,
        shared_at TEXT,
        introduced_at TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (hit, op_id)
    );
    CREATE INDEX deconfliction_sides_by_op ON deconfliction_sides (op_id, hit);
    CREATE INDEX deconfliction_sides_by_record ON deconfliction_sides (op_id, tbl, seq);
    CREATE TABLE deconfliction_backfill (
        tbl TEXT PRIMARY KEY,
        upto INTEGER NOT NULL
    );
    INSERT INTO deconfliction_backfill (tbl, upto)
        SELECT 'seizures', MAX(id) FROM seizures HAVING MAX(id) IS NOT NULL;
    INSERT INTO deconfliction_backfill (tbl, upto)
        SELECT 'arrests', MAX(id) FROM arrests HAVING MAX(id) IS NOT NULL;
    """),
    Migration(9, "the rooms told of a changed identity: only their leads may confirm it", """
    CREATE TABLE identity_change_rooms (
        user_id TEXT NOT NULL,
        room_id TEXT NOT NULL,
        PRIMARY KEY (user_id, room_id)
    ) WITHOUT ROWID;
    """),
    Migration(10, "megolm message indices of handled commands, against replays", """
    CREATE TABLE megolm_indices (
        sender_key TEXT NOT NULL,
        session_id TEXT NOT NULL,
        message_index INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        room_id TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (sender_key, session_id, message_index)
    ) WITHOUT ROWID;
    """),
    Migration(11, "the event's own time beside the bot's in the audit log, when they differ", """
    ALTER TABLE audit_log ADD COLUMN sent_at TEXT;
    """),
    Migration(12, "deconfliction against probing: notices held for a grace period, lookups "
              "counted per operation, hit numbers per operation pair, RED opt-in", """
    CREATE TABLE deconfliction_pending (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        key BLOB NOT NULL,
        kind TEXT NOT NULL,
        holder_op INTEGER NOT NULL REFERENCES operations(id),
        holder_tbl TEXT NOT NULL,
        holder_seq INTEGER NOT NULL,
        due_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (op_id, holder_op, holder_tbl, holder_seq)
    );
    CREATE INDEX deconfliction_pending_due ON deconfliction_pending (due_at);
    CREATE TABLE deconfliction_lookups (
        op_id INTEGER NOT NULL REFERENCES operations(id),
        at TEXT NOT NULL,
        hits INTEGER NOT NULL
    );
    CREATE INDEX deconfliction_lookups_by_op ON deconfliction_lookups (op_id, at);
    CREATE TABLE deconfliction_pairs (
        op_a INTEGER NOT NULL REFERENCES operations(id),
        op_b INTEGER NOT NULL REFERENCES operations(id),
        tag TEXT NOT NULL,
        last INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (op_a, op_b)
    ) WITHOUT ROWID;
    ALTER TABLE deconfliction_sides ADD COLUMN label TEXT;
    UPDATE deconfliction_sides SET label = 'D-' || hit;
    CREATE UNIQUE INDEX deconfliction_sides_by_label ON deconfliction_sides (op_id, label);
    ALTER TABLE operations ADD COLUMN deconflict_red INTEGER NOT NULL DEFAULT 0;
    """),
    # A record (audited like any other), so the acknowledgement is itself in the log:
    # `findings` holds the keys of the mismatches acknowledged (storage.witness). Each
    # row's newest entry, found by one seek, is what the records witness compares it with
    Migration(13, "a lead's acknowledgement of records changed behind the audit log", """
    CREATE TABLE audit_acks (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        findings TEXT NOT NULL,
        summary TEXT NOT NULL,
        tlp TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX audit_by_row ON audit_log (room_id, tbl, row_id, n, action);
    """),
    # A member's own language is theirs in one operation (audited in its chain, like any
    # record): what one room decides never changes another room.
    Migration(14, "languages: a member's own, an agency's default, the room's", """
    CREATE TABLE member_languages (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        user_id TEXT NOT NULL,
        lang TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (op_id, user_id)
    );
    ALTER TABLE agencies ADD COLUMN lang TEXT;
    ALTER TABLE operations ADD COLUMN lang TEXT;
    """),
    # A standard-form request (F-n) is drafted from one P-n: the officer's own values sit in
    # `fields` (JSON), what the room already knows is read from the records each time it is
    # shown. The identifiers a request names are seized items (S-n), linked to their P-n;
    # a follow-the-hop request names its parent. Asset records were F-n before forms took
    # the letter; they are M-n now (no command took an asset's number).
    Migration(15, "standard-form requests: drafts, identifiers named on a request, deadlines", """
    CREATE TABLE forms (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        preservation_id INTEGER NOT NULL REFERENCES preservations(id),
        form TEXT NOT NULL,
        lang TEXT NOT NULL,
        fields TEXT NOT NULL DEFAULT '{}',
        items TEXT NOT NULL DEFAULT '{}',
        red_override TEXT NOT NULL DEFAULT '[]',
        exported_hash TEXT,
        tlp TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE preservation_items (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        preservation_id INTEGER NOT NULL REFERENCES preservations(id),
        seizure_id INTEGER NOT NULL REFERENCES seizures(id),
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (preservation_id, seizure_id)
    );
    CREATE TABLE request_deadlines (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        preservation_id INTEGER NOT NULL REFERENCES preservations(id),
        form_id INTEGER NOT NULL REFERENCES forms(id),
        kind TEXT NOT NULL,
        due_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (form_id, kind)
    );
    CREATE INDEX forms_by_request ON forms (preservation_id);
    CREATE INDEX request_deadlines_due ON request_deadlines (op_id, due_at);
    ALTER TABLE preservations ADD COLUMN parent_id INTEGER REFERENCES preservations(id);
    UPDATE counters SET kind = 'M' WHERE kind = 'F';
    """),
    # A private-sector partner's room, fed from one operation at the link's TLP with only
    # what a lead assigned to that partner. A link is ended, never deleted (its audit stays
    # meaningful); only one live link per room.
    Migration(16, "partner rooms: links, what each partner is assigned, what partners report", """
    CREATE TABLE partner_links (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        room_id TEXT NOT NULL,
        name TEXT NOT NULL,
        tlp TEXT NOT NULL,
        tz TEXT NOT NULL,
        alias TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX partner_links_live_room ON partner_links (room_id) WHERE active = 1;
    CREATE UNIQUE INDEX partner_links_live_name ON partner_links (op_id, name COLLATE NOCASE)
        WHERE active = 1;
    CREATE TABLE partner_assignments (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        link_id INTEGER NOT NULL REFERENCES partner_links(id),
        tbl TEXT NOT NULL,
        row_id INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (link_id, tbl, row_id)
    );
    CREATE TABLE partner_reports (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        link_id INTEGER NOT NULL REFERENCES partner_links(id),
        takedown_id INTEGER REFERENCES takedowns(id),
        kind TEXT NOT NULL,
        note TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """),
    # Personal data (issue 18): each record holding personal fields names its data-subject
    # category and the key its fields are sealed with (the key lives in the key store, not
    # here); `erased_by` is the erasure that destroyed that key. An arrest may carry an
    # assessment apart from its facts (LED art. 7). Seizure values are found again by a keyed
    # hash, since the sealed value cannot be compared in SQL.
    Migration(17, "personal data: subject categories, sealing keys, assessments, closure time", """
    ALTER TABLE arrests ADD COLUMN subject_category TEXT;
    ALTER TABLE arrests ADD COLUMN subject_key INTEGER;
    ALTER TABLE arrests ADD COLUMN erased_by INTEGER;
    ALTER TABLE seizures ADD COLUMN subject_category TEXT;
    ALTER TABLE seizures ADD COLUMN subject_key INTEGER;
    ALTER TABLE seizures ADD COLUMN erased_by INTEGER;
    ALTER TABLE tasks ADD COLUMN subject_category TEXT;
    ALTER TABLE tasks ADD COLUMN subject_key INTEGER;
    ALTER TABLE tasks ADD COLUMN erased_by INTEGER;
    ALTER TABLE takedowns ADD COLUMN subject_category TEXT;
    ALTER TABLE takedowns ADD COLUMN subject_key INTEGER;
    ALTER TABLE takedowns ADD COLUMN erased_by INTEGER;
    ALTER TABLE assets ADD COLUMN subject_category TEXT;
    ALTER TABLE assets ADD COLUMN subject_key INTEGER;
    ALTER TABLE assets ADD COLUMN erased_by INTEGER;
    ALTER TABLE tallies ADD COLUMN subject_category TEXT;
    ALTER TABLE tallies ADD COLUMN subject_key INTEGER;
    ALTER TABLE tallies ADD COLUMN erased_by INTEGER;
    ALTER TABLE sitrep_notes ADD COLUMN subject_category TEXT;
    ALTER TABLE sitrep_notes ADD COLUMN subject_key INTEGER;
    ALTER TABLE sitrep_notes ADD COLUMN erased_by INTEGER;
    ALTER TABLE rollcall_answers ADD COLUMN subject_category TEXT;
    ALTER TABLE rollcall_answers ADD COLUMN subject_key INTEGER;
    ALTER TABLE rollcall_answers ADD COLUMN erased_by INTEGER;
    ALTER TABLE forms ADD COLUMN subject_category TEXT;
    ALTER TABLE forms ADD COLUMN subject_key INTEGER;
    ALTER TABLE forms ADD COLUMN erased_by INTEGER;
    ALTER TABLE partner_reports ADD COLUMN subject_category TEXT;
    ALTER TABLE partner_reports ADD COLUMN subject_key INTEGER;
    ALTER TABLE partner_reports ADD COLUMN erased_by INTEGER;
    ALTER TABLE arrests ADD COLUMN assessment TEXT;
    ALTER TABLE seizures ADD COLUMN value_key BLOB;
    CREATE INDEX seizures_by_value_key ON seizures (op_id, type, value_key);
    ALTER TABLE operations ADD COLUMN closed_at TEXT;
    UPDATE operations SET closed_at = updated_at WHERE phase = 'closed';
    """),
    # The consultation and disclosure log (LED art. 25): who was shown which records, when,
    # why and to whom, chained per room like the audit log, never holding what was shown
    # (a keyed MAC of it under its own secret). Member lists are stored once per distinct
    # list; the anchor is where verification starts after pruning.
    Migration(18, "the consultation and disclosure log, its chain, member lists and purposes; "
              "which bot messages showed which record", """
    CREATE TABLE consult_secret (
        secret BLOB NOT NULL
    );
    INSERT INTO consult_secret (secret) VALUES (randomblob(32));
    CREATE TABLE consult_log (
        id INTEGER PRIMARY KEY,
        room_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        at TEXT NOT NULL,
        sender TEXT NOT NULL,
        device TEXT,
        event_id TEXT,
        verb TEXT NOT NULL,
        scope TEXT NOT NULL,
        records INTEGER NOT NULL,
        recipients TEXT NOT NULL,
        members_hash TEXT NOT NULL,
        purpose TEXT NOT NULL,
        shown_mac TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        UNIQUE (room_id, n)
    );
    CREATE UNIQUE INDEX consult_log_event ON consult_log (event_id) WHERE event_id IS NOT NULL;
    CREATE INDEX consult_log_at ON consult_log (at);
    CREATE TABLE consult_heads (
        room_id TEXT PRIMARY KEY,
        n INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE consult_anchors (
        room_id TEXT PRIMARY KEY,
        n INTEGER NOT NULL,
        hash TEXT NOT NULL,
        pruned_at TEXT NOT NULL
    );
    CREATE TABLE consult_members (
        hash TEXT PRIMARY KEY,
        members TEXT NOT NULL
    );
    CREATE TABLE consult_purposes (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        set_at TEXT NOT NULL,
        until TEXT NOT NULL,
        PRIMARY KEY (room_id, user_id)
    );
    CREATE TABLE shown_events (
        room_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        handle TEXT NOT NULL,
        PRIMARY KEY (room_id, handle, event_id)
    ) WITHOUT ROWID;
    """),
    # Retention (Directive 2016/680 arts. 5, 16(3)): each operation's review period per
    # data-subject category, one row per change so its history (who lengthened it, why)
    # stays readable; legal holds, which restrict instead of erasing until released.
    Migration(19, "retention periods per operation and category; legal holds", """
    CREATE TABLE retention_policies (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        category TEXT NOT NULL,
        period TEXT NOT NULL,
        kind TEXT NOT NULL,
        reason TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX retention_policies_by_op ON retention_policies (op_id, category, id);
    CREATE TABLE holds (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        ref TEXT NOT NULL,
        category TEXT,
        records TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        released_by TEXT,
        released_at TEXT,
        release_reason TEXT,
        UNIQUE (op_id, seq)
    );
    CREATE INDEX holds_active ON holds (op_id) WHERE released_at IS NULL;
    """),
    # Erasures (issue 18): one record per run of crypto-shredding, E-n per operation, with
    # its scope, reason, approver and counts (never values), the audit entries a purge
    # dropped the ciphertext of (`purged`, [first, last] ranges read by storage.audit), and
    # how far it got, so a run cut short is finished at the next start. `erasure_keys` are
    # the keys it destroys (the records' and their commands'), kept apart because a purge
    # removes the only other trace of the commands' keys. An erasure finds every entry of
    # its records, in any room's chain, by the record (`audit_by_record`). Its records are
    # listed at once (`erasure_targets`) and marked in batches; `erasure_purged` gathers the
    # entry numbers a purge replaced, listed on E-n once all are marked.
    Migration(20, "erasures of personal data (E-n) and the keys each destroys", """
    CREATE TABLE erasures (
        id INTEGER PRIMARY KEY,
        op_id INTEGER NOT NULL REFERENCES operations(id),
        seq INTEGER NOT NULL,
        tlp TEXT,
        scope TEXT NOT NULL,
        reason TEXT NOT NULL,
        approver TEXT NOT NULL,
        counts TEXT NOT NULL,
        handles TEXT NOT NULL,
        purge INTEGER NOT NULL DEFAULT 0,
        purged TEXT,
        state TEXT NOT NULL DEFAULT 'started',
        started_at TEXT NOT NULL,
        finished_at TEXT,
        announced_at TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (op_id, seq)
    );
    CREATE TABLE erasure_targets (
        erasure_id INTEGER NOT NULL REFERENCES erasures(id),
        tbl TEXT NOT NULL,
        row_id INTEGER NOT NULL,
        subject_key INTEGER,
        done INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (erasure_id, tbl, row_id)
    ) WITHOUT ROWID;
    CREATE INDEX erasure_targets_todo ON erasure_targets (erasure_id, done);
    CREATE TABLE erasure_purged (
        erasure_id INTEGER NOT NULL REFERENCES erasures(id),
        n INTEGER NOT NULL,
        PRIMARY KEY (erasure_id, n)
    ) WITHOUT ROWID;
    CREATE INDEX audit_by_record ON audit_log (tbl, row_id);
    CREATE TABLE erasure_keys (
        erasure_id INTEGER NOT NULL REFERENCES erasures(id),
        key_id INTEGER NOT NULL,
        PRIMARY KEY (erasure_id, key_id)
    ) WITHOUT ROWID;
    """),
)

LATEST = MIGRATIONS[-1].version
