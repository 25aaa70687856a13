"""Measured detection quality: labelled cases through the production core, metrics and reports."""
