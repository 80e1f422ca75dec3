"""Command grammar and handlers. Never imports nio: the bot hands in `Incoming` and sends
the `Reply` it gets back.

This module is the package's public surface: `bot/`, `exports/` and the benchmarks import
from here only, so the framework (`commands/core/`) and the handlers can be rearranged
without touching them. Inside the package, modules import each other directly.
"""

from commands.audit import acknowledged_line as witness_acknowledged
from commands.audit import describe as describe_mismatch
from commands.audit import findings as audit_findings
from commands.audit import name as mismatch_name
from commands.audit import refusal as export_refusal
from commands.board_schedule import BoardSchedule
from commands.board_schedule import due as boards_due
from commands.board_schedule import owe_with_sitrep as owe_board_with_sitrep
from commands.board_schedule import posted as board_posted
from commands.core import i18n, timeparse, validate
from commands.core.consulted import SCHEDULED_BOARD, SCHEDULED_SITREP
from commands.core.consulted import handles as record_handles
from commands.core.consulted import scheduled as log_scheduled_post
from commands.core.dispatcher import CommandObserver, Dispatcher
from commands.core.i18n import N_, speaking, tr, trn
from commands.core.ratelimit import RateLimit, RateLimiter
from commands.core.records import PREFIX, dtg
from commands.core.reply import notice_content, queued
from commands.core.spec import REGISTRY as DECLARED_COMMANDS
from commands.core.types import (
    Attachment,
    BoardDrawer,
    Clock,
    CommandError,
    DrawnBoard,
    Exporter,
    ExportRefused,
    ExportSummary,
    FormWriter,
    Incoming,
    Reply,
    RoomHeads,
    Settings,
    WitnessedHead,
    WitnessSource,
    WitnessUnavailable,
)
from commands.core.visible import visible, visible_html
from commands.deconflict import anything_due as deconfliction_anything_due
from commands.deconflict import index_existing as index_for_deconfliction
from commands.deconflict import release_due as deconfliction_due
from commands.erase import APPROVER_POLICY as ERASURE_APPROVER_POLICY
from commands.erase import REASON_POLICY as ERASURE_REASON_POLICY
from commands.erase import announcement as erasure_announcement
from commands.erase import labels as erased_labels
from commands.export import FORMATS as EXPORT_FORMATS
from commands.export import PARTNER_FORMATS as PARTNER_EXPORT_FORMATS
from commands.export import partner_format_refusal, partner_level_refusal
from commands.form import FILE_FORMATS as FORM_FORMATS
from commands.form import stored_draft as form_draft
from commands.forms.document import Section as FormSection
from commands.forms.document import Template as FormTemplate
from commands.forms.document import canonical as form_canonical
from commands.forms.document import template as form_template
from commands.forms.providers import DirectoryError as ProviderDirectoryError
from commands.forms.providers import load as load_providers
from commands.partner import shown_name as partner_shown_name
from commands.partner_feed import reminders_due as partner_reminders
from commands.partner_feed import room_lost as partner_room_lost
from commands.partner_feed import sitreps as partner_sitreps
from commands.reminders import due as due_reminders
from commands.reminders import record as record_reminder
from commands.retention import warnings_due as retention_warnings
from commands.schedule import latest_due_slot, trigger_for
from commands.sitrep import produce as produce_sitrep
from commands.witness import CONSULT_WITNESS_KEY, WITNESS_KEY, parse_head
from commands.witness import compare as witness_compare
from commands.witness import describe as witness_describe
from commands.witness import summary as witness_summary

__all__ = [
    "CONSULT_WITNESS_KEY",
    "DECLARED_COMMANDS",
    "ERASURE_APPROVER_POLICY",
    "ERASURE_REASON_POLICY",
    "EXPORT_FORMATS",
    "FORM_FORMATS",
    "N_",
    "PARTNER_EXPORT_FORMATS",
    "PREFIX",
    "SCHEDULED_BOARD",
    "SCHEDULED_SITREP",
    "WITNESS_KEY",
    "Attachment",
    "BoardDrawer",
    "BoardSchedule",
    "Clock",
    "CommandError",
    "CommandObserver",
    "Dispatcher",
    "DrawnBoard",
    "ExportRefused",
    "ExportSummary",
    "Exporter",
    "FormSection",
    "FormTemplate",
    "FormWriter",
    "Incoming",
    "ProviderDirectoryError",
    "RateLimit",
    "RateLimiter",
    "Reply",
    "RoomHeads",
    "Settings",
    "WitnessSource",
    "WitnessUnavailable",
    "WitnessedHead",
    "audit_findings",
    "board_posted",
    "boards_due",
    "deconfliction_anything_due",
    "deconfliction_due",
    "describe_mismatch",
    "dtg",
    "due_reminders",
    "erased_labels",
    "erasure_announcement",
    "export_refusal",
    "form_canonical",
    "form_draft",
    "form_template",
    "i18n",
    "index_for_deconfliction",
    "latest_due_slot",
    "load_providers",
    "log_scheduled_post",
    "mismatch_name",
    "notice_content",
    "owe_board_with_sitrep",
    "parse_head",
    "partner_format_refusal",
    "partner_level_refusal",
    "partner_reminders",
    "partner_room_lost",
    "partner_shown_name",
    "partner_sitreps",
    "produce_sitrep",
    "queued",
    "record_handles",
    "record_reminder",
    "retention_warnings",
    "speaking",
    "timeparse",
    "tr",
    "trigger_for",
    "trn",
    "validate",
    "visible",
    "visible_html",
    "witness_acknowledged",
    "witness_compare",
    "witness_describe",
    "witness_summary",
]
