"""Durable, audited storage of operations. Never formats chat text."""
