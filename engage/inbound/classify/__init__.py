"""Classifying citizens' replies: language, sentiment, category, urgency and personal data.

Pure Python with no database access; :func:`engage.inbound.classify.pipeline.classify_reply` is the
entry point. The pieces live in their own modules (language, sentiment, category, urgency) so
each can be used and tested alone.
"""
