"""Detectors: the Detector protocol, built-in detectors and the rule packs the security team edits."""
