"""Standard-form requests (F-n) drafted from a preservation / MLA request (P-n).

The record is a draft: the forms' own rules are checked (`rules`), their deadlines become
reminders on the P-n (`deadlines`), and the file is written by the exports package. The
bot never sends a request: EU orders go through the national exchange system.
"""
